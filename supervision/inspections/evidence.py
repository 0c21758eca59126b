"""Stored evidence files (body-camera video, photos) for those entitled to see them.

A file is addressed by its SHA-256 and may back inspections of several establishments; an
actor may read it when it covers the jurisdiction of at least one of them
(`Actor.covers`): a terminal its own jurisdiction, the command line and the system all. The
same rule will serve a supervisor console. The public has no way in: no public route reads
this store.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.errors import NotFound
from supervision.inspections.attachments import AttachmentStore, check_address
from supervision.inspections.models import Attachment, Inspection, ManifestEntry
from supervision.registry.models import Establishment


@dataclass(frozen=True)
class Evidence:
    path: Path
    attachment: Attachment


def open_evidence(session: Session, actor: audit.Actor, store: AttachmentStore, sha256: str) -> Evidence:
    """The stored file and its row, if the actor may see it; otherwise it does not exist."""
    check_address(sha256)
    missing = NotFound("证据文件不存在或无权查看", fields={"sha256": ["不存在或无权查看"]})
    jurisdictions = session.execute(
        select(Establishment.jurisdiction_id).distinct()
        .join(Inspection, Inspection.establishment_id == Establishment.id)
        .join(ManifestEntry, ManifestEntry.inspection_uuid == Inspection.uuid)
        .where(ManifestEntry.sha256 == sha256)
    ).scalars().all()
    if not any(actor.covers(jurisdiction) for jurisdiction in jurisdictions):
        raise missing
    attachment = session.get(Attachment, sha256)
    path = store.path_for(sha256)
    if attachment is None or not path.is_file():
        raise missing
    return Evidence(path, attachment)
