"""Reading an inspection's state, under the caller's access rule.

Reading is also a touch: an inspection that has all its files but was never settled (its
second step failed) is settled by the read, so a device that asks is never told "nothing
missing, still waiting" twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from supervision import audit
from supervision.errors import NotFound
from supervision.inspections import settlement, video_uploads
from supervision.inspections.models import Inspection, InspectionInspector, ManifestEntry, RectificationOrder

UNKNOWN = object()


@dataclass
class InspectionState:
    inspection: Inspection
    missing: list[ManifestEntry]
    order: RectificationOrder | None


def _not_found() -> NotFound:
    return NotFound("检查记录不存在", fields={"uuid": ["检查记录不存在"]})


def load(session: Session, uuid: str, *, refresh: bool = False) -> Inspection | None:
    """An inspection with everything its state shows, in one query: establishment (for the
    access rule), inspectors, findings and order."""
    query = (
        select(Inspection).where(Inspection.uuid == uuid)
        .options(joinedload(Inspection.establishment),
                 joinedload(Inspection.inspectors).joinedload(InspectionInspector.inspector),
                 joinedload(Inspection.findings),
                 joinedload(Inspection.rectification_order))
    )
    if refresh:
        query = query.execution_options(populate_existing=True)
    return session.execute(query).unique().scalar_one_or_none()


def get_inspection(session: Session, uuid: str) -> Inspection:
    inspection = load(session, uuid)
    if inspection is None:
        raise _not_found()
    return inspection


def visible_inspection(session: Session, actor: audit.Actor, uuid: str) -> Inspection:
    """An inspection of the actor's jurisdiction; others do not exist for it."""
    inspection = load(session, uuid)
    if inspection is None or not actor.covers(inspection.establishment.jurisdiction_id):
        raise _not_found()
    return inspection


def state_of(session: Session, inspection: Inspection, *, missing=None, order=UNKNOWN) -> InspectionState:
    """The state shown to a device. What the caller already knows is not read again."""
    if missing is None:
        # A complete inspection has nothing missing: files never leave the store's table.
        missing = [] if inspection.status == "complete" else settlement.missing_attachments(session, inspection.uuid)
    if order is UNKNOWN:
        order = inspection.rectification_order
    _note_partial_videos(session, missing)
    return InspectionState(inspection, missing, order)


def _note_partial_videos(session: Session, missing: list[ManifestEntry]) -> None:
    """A video still arriving is listed with the bytes the server holds (one query, and only
    when a video is missing)."""
    videos = [entry for entry in missing if entry.purpose == "video"]
    offsets = video_uploads.offsets_of(session, [entry.sha256 for entry in videos])
    for entry in videos:
        entry.uploaded_bytes = offsets.get(entry.sha256, 0)


def read_state(session: Session, actor: audit.Actor, uuid: str) -> InspectionState:
    """The state of a visible inspection, settling it first if it is ready and was never
    settled. The caller commits (the settlement, if any)."""
    inspection = visible_inspection(session, actor, uuid)
    state = state_of(session, inspection)
    if inspection.status == "awaiting_attachments" and not state.missing:
        settlement.settle(session, uuid)  # refreshes `inspection` (status, findings) if it completes it
    return state
