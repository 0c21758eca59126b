"""The access log: reads by terminals, attributed to device and inspector.

Kept apart from the hash chain on purpose. The chain records state changes, which the public
record and its published checkpoints cover, and every append takes its global head lock; a read
is logged here with one INSERT and no lock, in the transaction of the request that made it.
"""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from supervision.audit.actor import Actor
from supervision.audit.models import AccessLogEntry
from supervision.jsonutil import canonical_json
from supervision.modelbase import utcnow

MAX_PATH = 512


def log_read(session: Session, actor: Actor, *, method: str, path: str, query: dict, status: int) -> None:
    """Note one read; it is written when the caller's unit of work commits."""
    session.execute(insert(AccessLogEntry).values(
        at=utcnow(), device_id=actor.device_id, inspector_id=actor.inspector_id, method=method[:8],
        path=path[:MAX_PATH], query=canonical_json(query), status=status,
    ))
