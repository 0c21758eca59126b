"""The one transaction rule: services never commit; interfaces commit.

A service function takes a session, reads, writes and may `flush()` or open an
`audit.savepoint`, but it never ends the transaction: it cannot know whether its caller has
more to do in the same unit (a batch of submissions, a CLI import). The interface that called
it (an API view, a CLI command, a job around each batch) decides where a unit of work ends, and
ends it here: commit when the block finishes, roll back when it raises. See
docs/architecture.md.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from sqlalchemy.orm import Session, scoped_session

T = TypeVar("T")


def _real(session) -> Session:
    return session.registry() if isinstance(session, scoped_session) else session


@contextmanager
def unit_of_work(session, *, keep_loaded: bool = False) -> Iterator[Session]:
    """Commit what the block did, or roll it all back if it raises.

    `keep_loaded=True` commits without expiring the objects the block loaded or created, so an
    interface that renders them right after (the state of an inspection it just stored) does
    not read them all back: they hold exactly what this transaction wrote.
    """
    real = _real(session)
    try:
        yield real
        if keep_loaded:
            expire, real.expire_on_commit = real.expire_on_commit, False
            try:
                real.commit()
            finally:
                real.expire_on_commit = expire
        else:
            real.commit()
    except BaseException:
        real.rollback()
        raise


def run(session, operation: Callable[[], T], *, keep_loaded: bool = False) -> T:
    """`operation()` as one unit of work; returns its result."""
    with unit_of_work(session, keep_loaded=keep_loaded):
        return operation()
