"""Establishments flagged high-risk: always drawn, whatever their stratum's ratio.

Three sources (seed 002 §四(二)): a substantiated complaint, an overdue rectification order and
the early-warning list. The first two are read here; the early-warning list comes from
`supervision.credit.warnings.flagged_establishment_ids` through `_early_warning` below.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision.credit.models import CreditRecord
from supervision.credit.warnings import flagged_establishment_ids
from supervision.inspections.models import RectificationOrder
from supervision.registry.models import Establishment

# A complaint counts while its record is in force and arose within this many days.
COMPLAINT_LOOKBACK_DAYS = 365
COMPLAINT = "complaint_substantiated"
REASON_NAMES = {"complaint": "投诉举报查实", "overdue_rectification": "逾期未整改", "early_warning": "信用预警名单"}


def _early_warning(session: Session, jurisdiction_ids: list[int], on: date) -> set[int]:
    """Establishment ids on the early-warning list (信用预警名单) on `on`: the rules of
    `supervision.credit.warnings` (policy kind `early_warning`, resolved per jurisdiction),
    read set-based. The draw, its export and its verification all take high-risk flags from
    `high_risk_subjects`."""
    return flagged_establishment_ids(session, jurisdiction_ids, on)


def high_risk_subjects(session: Session, jurisdiction_ids: list[int], on: date) -> dict[int, list[str]]:
    """Establishment id -> reasons ("complaint", "overdue_rectification", "early_warning") for
    every establishment of these jurisdictions that must be drawn on `on`."""
    flagged: dict[int, list[str]] = {}
    complaints = session.execute(
        select(Establishment.id).join(CreditRecord, CreditRecord.subject_id == Establishment.subject_id)
        .where(Establishment.jurisdiction_id.in_(jurisdiction_ids), CreditRecord.kind == "adverse",
               CreditRecord.code == COMPLAINT, CreditRecord.status.in_(("effective", "under_objection")),
               CreditRecord.superseded_at.is_(None), CreditRecord.arose_on <= on,
               CreditRecord.arose_on > on - timedelta(days=COMPLAINT_LOOKBACK_DAYS))
    ).scalars()
    for est_id in complaints:
        flagged.setdefault(est_id, []).append("complaint")
    overdue = session.execute(
        select(RectificationOrder.establishment_id).join(Establishment, Establishment.id == RectificationOrder.establishment_id)
        .where(Establishment.jurisdiction_id.in_(jurisdiction_ids), RectificationOrder.status == "open",
               RectificationOrder.deadline < on)
    ).scalars()
    for est_id in overdue:
        if "overdue_rectification" not in flagged.setdefault(est_id, []):
            flagged[est_id].append("overdue_rectification")
    for est_id in _early_warning(session, jurisdiction_ids, on):
        flagged.setdefault(est_id, []).append("early_warning")
    return {k: sorted(set(v)) for k, v in flagged.items()}
