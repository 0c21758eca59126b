"""Refusing someone else's data, for both interfaces of establishment accounts (these pages and
the portal JSON API): the refused request is rolled back and the attempt itself is audited in a
unit of work of its own, then the refusal goes on to the caller (403 page or JSON error)."""
from __future__ import annotations

from typing import Callable, TypeVar

from supervision.accounts import service as accounts
from supervision.audit.actor import Actor
from supervision.errors import Forbidden
from supervision.extensions import db
from supervision.transaction import run

T = TypeVar("T")


def guarded(operation: Callable[[], T], actor: Actor, what: str, entity_type: str, entity_id) -> T:
    """`operation()`; when it raises Forbidden, the attempt is recorded as `portal.refused`
    (entity and attempted action) and the Forbidden is raised again."""
    try:
        return operation()
    except Forbidden:
        db.session.rollback()
        run(db.session, lambda: accounts.record_refusal(db.session, actor, what=what, entity_type=entity_type,
                                                        entity_id=entity_id))
        raise


def own_establishment(actor: Actor, establishment_id: int, what: str):
    """The establishment if it is the caller's own; otherwise the attempt is audited and refused."""
    return guarded(lambda: accounts.own_establishment(db.session, actor, establishment_id), actor, what,
                   "establishments", establishment_id)
