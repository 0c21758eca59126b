"""Missed rectification deadlines (逾期未整改) become adverse credit information.

An open rectification order whose deadline has passed, and whose re-inspection did not close
it, gives the establishment one adverse fact (kind "adverse", code "rectification_overdue",
severity "general"), arising on the first day after the deadline. "Closed by re-inspection":
a current (not superseded) inspection on the order's re-inspection task, started on or before
the deadline, in which none of the order's items failed again.

Idempotent: the fact's source is the order (`rectification_order:<id>`), recorded at most once,
so the job is safe to run daily from cron. The job commits after each batch; the service
function below it does not commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import String, cast, exists, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import records
from supervision.credit.calendar import china_today
from supervision.credit.models import CreditRecord
from supervision.inspections.models import Finding, Inspection, RectificationOrder
from supervision.registry.models import Establishment
from supervision.timeutil import with_offset

SOURCE_TYPE = "rectification_order"
BATCH = 500
ACTOR = audit.Actor.system("rectification-deadlines")


@dataclass
class OverdueReport:
    checked: int = 0  # open orders past their deadline without a record yet
    recorded: int = 0
    closed_by_reinspection: int = 0


def _candidates(session: Session, on: date, after_id: int, limit: int) -> list[RectificationOrder]:
    already = exists().where(CreditRecord.source_type == SOURCE_TYPE,
                             CreditRecord.source_ref == _ref_expr())
    return list(session.execute(
        select(RectificationOrder)
        .where(RectificationOrder.status == "open", RectificationOrder.deadline < on,
               RectificationOrder.id > after_id, ~already)
        .order_by(RectificationOrder.id).limit(limit)
    ).scalars())


def _ref_expr():
    return cast(RectificationOrder.id, String)


def _closed_by_reinspection(session: Session, order: RectificationOrder) -> bool:
    if order.reinspection_task_id is None:
        return False
    visits = session.execute(select(Inspection).where(
        Inspection.task_id == order.reinspection_task_id, Inspection.superseded_at.is_(None))).scalars().all()
    for visit in visits:
        if with_offset(visit.started_at, visit.started_offset_min).date() > order.deadline:
            continue
        failed_again = session.execute(select(Finding.item_code).where(
            Finding.inspection_uuid == visit.uuid, Finding.item_code.in_(order.item_codes))).first()
        if failed_again is None:
            return True
    return False


def record_overdue_batch(session: Session, actor: audit.Actor, on: date, after_id: int = 0,
                         limit: int = BATCH, report: OverdueReport | None = None) -> tuple[int | None, OverdueReport]:
    """One batch: record the adverse fact of each overdue order after `after_id`. Returns the
    last order id looked at (None when there are no more) and the running report."""
    report = report or OverdueReport()
    orders = _candidates(session, on, after_id, limit)
    if not orders:
        return None, report
    for order in orders:
        report.checked += 1
        if _closed_by_reinspection(session, order):
            report.closed_by_reinspection += 1
            continue
        establishment = session.get(Establishment, order.establishment_id)
        records.record(session, actor, records.Fact(
            subject_id=establishment.subject_id, kind="adverse", code="rectification_overdue", severity="general",
            title=f"逾期未完成整改（整改期限 {order.deadline.isoformat()}）",
            arose_on=order.deadline + timedelta(days=1), source_type=SOURCE_TYPE, source_ref=str(order.id),
            producing_unit_id=establishment.jurisdiction_id, channel="system",
            details={"rectification_order_id": order.id, "inspection_uuid": order.inspection_uuid,
                     "deadline": order.deadline.isoformat(), "item_codes": list(order.item_codes)},
        ))
        report.recorded += 1
    return orders[-1].id, report


def run_overdue_job(session: Session, on: date | None = None, *, actor: audit.Actor = ACTOR,
                    progress: Callable[[OverdueReport], None] | None = None) -> OverdueReport:
    """The job (cron, RQ or the CLI): every batch committed on its own, so a long run keeps
    what it did if it stops, and running it again continues where it stopped."""
    on = on or china_today()
    after, report = 0, OverdueReport()
    while True:
        try:
            after, report = record_overdue_batch(session, actor, on, after, report=report)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        if after is None:
            return report
        if progress:
            progress(report)
