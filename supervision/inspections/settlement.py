"""Settling inspections (step two of two): an inspection whose every file has arrived becomes
complete, and credit information.

Step one (receiving a submission, or a file) commits first; settlement runs after it, in a unit
of work of its own, because a submission and its last file committing at the same moment would
otherwise each miss the other: whichever commits second sees the first when it settles.

Settlement is idempotent and restartable. The claim is one conditional UPDATE: "complete, if
still awaiting its files and none is missing"; the row lock it takes makes a concurrent settler
wait and then find the inspection complete, so the credit record and the audit entries are
written exactly once. If the step never runs (the worker died, the connection dropped, the
database restarted between the two steps), nothing is lost: every later touch of the
inspection settles it (its state read, a re-upload of any of its files, a resubmission), and
the sweeper (`supervision inspections settle --stale`) settles what nobody touches again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session, joinedload

from supervision import audit
from supervision.credit import records as credit_records
from supervision.database import is_postgresql
from supervision.inspections.models import Attachment, Inspection, ManifestEntry
from supervision.modelbase import utcnow

SETTLEMENT_ACTOR = audit.Actor.system("inspection-settlement")


def _not_received():
    """The one definition of a missing file: no attachment with the manifest entry's hash and
    declared size."""
    return ~exists().where(Attachment.sha256 == ManifestEntry.sha256, Attachment.size == ManifestEntry.size)


def missing_attachments(session: Session, uuid: str) -> list[ManifestEntry]:
    """Files of the manifest not yet received (or received with another size than declared)."""
    return list(session.execute(
        select(ManifestEntry).where(ManifestEntry.inspection_uuid == uuid, _not_received())
        .order_by(ManifestEntry.id)
    ).scalars())


def _all_files_received():
    """For the inspection row of the enclosing statement: nothing of its manifest is missing."""
    return ~exists().where(ManifestEntry.inspection_uuid == Inspection.uuid, _not_received())


def _claim_statement(which):
    """Mark complete every inspection matched by `which` that is still awaiting its files and
    now has them all, returning their uuids. One statement; its row locks serialise settlers."""
    return (
        update(Inspection)
        .where(which, Inspection.status == "awaiting_attachments", _all_files_received())
        .values(status="complete", completed_at=bindparam("claimed_at"))
        .returning(Inspection.uuid)
        .execution_options(synchronize_session=False)
    )


# The two claims every request may run, built once (parameters: claim_uuid or sha256, claimed_at).
_CLAIM_ONE = _claim_statement(Inspection.uuid == bindparam("claim_uuid"))
_CLAIM_WAITING_ON = _claim_statement(Inspection.uuid.in_(
    select(ManifestEntry.inspection_uuid).where(ManifestEntry.sha256 == bindparam("sha256")).scalar_subquery()))


def _claim(session: Session, statement, **params) -> tuple[list[str], datetime]:
    now = utcnow()
    uuids = session.execute(statement, {**params, "claimed_at": now}).scalars().all()
    return sorted(uuids), now


def _complete(session: Session, uuids: list[str], completed_at: datetime) -> list[str]:
    """What follows from the claim, for the inspections this settler won: credit and audit.
    The inspections are re-read into the session's identity map (populate_existing), so a caller
    holding one sees it complete."""
    if not uuids:
        return []
    inspections = session.execute(
        select(Inspection).where(Inspection.uuid.in_(uuids)).order_by(Inspection.uuid)
        .options(joinedload(Inspection.establishment), joinedload(Inspection.findings))
        .execution_options(populate_existing=True)
    ).unique().scalars().all()
    for inspection in inspections:
        audit.record(session, SETTLEMENT_ACTOR, "inspection.complete", inspection,
                     before={"status": "awaiting_attachments"},
                     after={"status": "complete", "completed_at": completed_at})
        # The credit area owns credit records: it validates and audits the fact.
        credit_records.record(session, SETTLEMENT_ACTOR, credit_records.inspection_fact(inspection.establishment, inspection))
    return uuids


def settle(session: Session, uuid: str) -> bool:
    """Complete the inspection if every file has arrived; idempotent. True if this call
    completed it. The caller commits."""
    return bool(_complete(session, *_claim(session, _CLAIM_ONE, claim_uuid=uuid)))


def settle_waiting_on(session: Session, sha256: str) -> list[str]:
    """After a file arrives (or arrives again): settle every inspection that was waiting for it."""
    return _complete(session, *_claim(session, _CLAIM_WAITING_ON, sha256=sha256))


def settle_stale(session: Session, *, received_before: datetime, limit: int) -> list[str]:
    """Settle up to `limit` inspections received before the cutoff that have every file but
    were never settled. On PostgreSQL the candidates are locked with SKIP LOCKED, so sweepers
    running at once, and uploads settling the same inspections, never wait for each other and
    never settle one twice."""
    candidates = (
        select(Inspection.uuid)
        .where(Inspection.status == "awaiting_attachments", Inspection.received_at < received_before,
               _all_files_received())
        .order_by(Inspection.received_at, Inspection.uuid).limit(limit)
    )
    if is_postgresql(session.get_bind()):
        candidates = candidates.with_for_update(skip_locked=True, of=Inspection)
    uuids = session.execute(candidates).scalars().all()
    if not uuids:
        return []
    return _complete(session, *_claim(session, _claim_statement(Inspection.uuid.in_(uuids))))
