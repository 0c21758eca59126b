"""Recording and verifying the audit chain.

Services call `record()` inside their transaction; nothing is written then. When the session
commits, the pending entries are chained and inserted as the very last step: domain rows are
flushed first, then the head row is locked (row lock on PostgreSQL; on SQLite every write
transaction is already serialised), the entries are appended and the head moved. Taking the
lock last keeps the time a writer holds it short, so concurrent submissions do not queue behind
each other for the whole of their work.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from sqlalchemy import event, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from supervision.audit.actor import Actor
from supervision.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from supervision.jsonutil import canonical_json, plain

_PENDING = "audit_pending"
# Called with (session, [(entity_type, entity_id, entity or None), ...]) for what a transaction changes, inside it,
# under the head lock (so that writers take any further locks in one order): a derived store that
# must never be stale (the stored plate pages) is invalidated in the very transaction that
# changes what it derives from.
_append_hooks: list[Callable[[Session, list[tuple[str, str, Any]]], None]] = []
# Up to this many entries are appended in one multi-row statement (far below PostgreSQL's limit
# of 65,535 bound parameters; an entry has ten).
_ONE_STATEMENT_ROWS = 500


@dataclass
class _Pending:
    actor: Actor
    action: str
    entity: Any
    entity_type: str
    entity_id: Any
    before: Any
    after: Any
    at: datetime


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def on_append(hook: Callable[[Session, list[tuple[str, str, Any]]], None]) -> None:
    """Register `hook(session, [(entity_type, entity_id, entity), ...])`, run for every
    transaction that appends entries, before its commit (`entity`: the model instance recorded,
    or None when only a type and id were)."""
    if hook not in _append_hooks:
        _append_hooks.append(hook)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: Any = None,
    *,
    entity_type: str | None = None,
    entity_id: Any = None,
    before: dict | None = None,
    after: dict | Callable[[], dict] | None = None,
) -> None:
    """Note a state change, to be chained when the session commits.

    `entity` may be a model instance that has no id yet; its id, and its `audit_snapshot()` as
    the "after" state, are read at commit time, after the flush that gives it one.
    """
    if entity is not None:
        entity_type = entity_type or entity.__tablename__
    if entity_type is None:
        raise ValueError("record() needs an entity or an entity_type")
    session.info.setdefault(_PENDING, []).append(
        _Pending(actor, action, entity, entity_type, entity_id, before, after, utcnow())
    )


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT whose audit entries are dropped with it if the block fails."""
    pending = session.info.setdefault(_PENDING, [])
    mark = len(pending)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        del pending[mark:]
        raise


def _resolve(p: _Pending) -> tuple[str, Any, Any]:
    entity_id = p.entity_id
    if entity_id is None and p.entity is not None:
        entity_id = "/".join(str(part) for part in sa_inspect(p.entity).identity)
    after = p.after() if callable(p.after) else p.after
    if after is None and p.entity is not None and p.action != "delete" and hasattr(p.entity, "audit_snapshot"):
        after = p.entity.audit_snapshot()
    return str(entity_id), p.before, after


def entry_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + payload).encode("utf-8")).hexdigest()


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is being released; the outer commit writes the entries
    pending: list[_Pending] = session.info.get(_PENDING) or []
    if not pending:
        return
    session.flush()  # domain rows first, so new entities have their ids
    resolved = [(p, *_resolve(p)) for p in pending]
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    changed = [(p.entity_type, str(entity_id), p.entity) for p, entity_id, _, _ in resolved]
    for hook in _append_hooks:
        hook(session, changed)
    seq, prev = head.last_seq, head.last_hash
    rows = []
    for p, entity_id, before, after in resolved:
        seq += 1
        payload = canonical_json(
            {
                "seq": seq,
                "at": p.at.isoformat(),
                "actor": p.actor.as_dict(),
                "action": p.action,
                "entity": {"type": p.entity_type, "id": entity_id},
                "before": plain(before),
                "after": plain(after),
            }
        )
        digest = entry_hash(prev, payload)
        rows.append(
            {
                "seq": seq,
                "at": p.at,
                "actor_kind": p.actor.kind,
                "actor_ref": p.actor.ref,
                "action": p.action,
                "entity_type": p.entity_type,
                "entity_id": entity_id,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    move_head = update(AuditHead.__table__).where(AuditHead.__table__.c.id == 1).values(last_seq=seq, last_hash=prev)
    if session.get_bind().dialect.name == "postgresql" and len(rows) <= _ONE_STATEMENT_ROWS:
        # Entries and head in one statement: the head's UPDATE rides along as a data-modifying
        # CTE, so a commit costs the head lock and one more round trip.
        session.execute(insert(AuditEntry.__table__).values(rows).add_cte(move_head.cte("move_head")))
    else:
        session.execute(insert(AuditEntry.__table__), rows)
        session.execute(move_head)
    session.expire(head)
    pending.clear()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


@dataclass
class ChainProblem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.reason}"


def verify_chain(session: Session) -> tuple[int, list[ChainProblem]]:
    """Walk the whole chain; return how many entries were checked and every problem found."""
    problems: list[ChainProblem] = []
    expected_seq, prev = 1, GENESIS_HASH
    count = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)).scalars()
    for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            gap = f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}–{entry.seq - 1}"
            problems.append(ChainProblem(expected_seq, f"entries {gap} deleted"))
        if entry.prev_hash != prev:
            problems.append(ChainProblem(entry.seq, "link to the previous entry broken (previous entry edited or deleted)"))
        if entry_hash(entry.prev_hash, entry.payload) != entry.hash:
            problems.append(ChainProblem(entry.seq, "content edited: its hash no longer matches"))
        else:
            mismatch = _columns_disagree(entry)
            if mismatch:
                problems.append(ChainProblem(entry.seq, f"column {mismatch} edited: it disagrees with the hashed record"))
        expected_seq, prev = entry.seq + 1, entry.hash
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append(ChainProblem(0, "chain head missing"))
    elif head.last_seq != expected_seq - 1 or head.last_hash != prev:
        if head.last_seq >= expected_seq:
            problems.append(ChainProblem(expected_seq, f"entries {expected_seq}–{head.last_seq} deleted from the end"))
        else:
            problems.append(ChainProblem(head.last_seq, "chain head edited"))
    return count, problems


def _columns_disagree(entry: AuditEntry) -> str | None:
    data = json.loads(entry.payload)
    checks = {
        "seq": (data.get("seq"), entry.seq),
        "at": (data.get("at"), entry.at.isoformat() if entry.at else None),
        "actor_kind": (data.get("actor", {}).get("kind"), entry.actor_kind),
        "actor_ref": (data.get("actor", {}).get("ref"), entry.actor_ref),
        "action": (data.get("action"), entry.action),
        "entity_type": (data.get("entity", {}).get("type"), entry.entity_type),
        "entity_id": (data.get("entity", {}).get("id"), entry.entity_id),
    }
    for column, (hashed, stored) in checks.items():
        if hashed != stored:
            return column
    return None
