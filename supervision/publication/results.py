"""Published yearly results: the summary tables (分级评价结果汇总表) each jurisdiction publishes
from the publication day of its grading policy's calendar (25 January by default), and the
open-data feed of published grades and public penalties."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision import policy
from supervision.audit.models import AuditEntry
from supervision.credit import codes
from supervision.credit.grading import policy as grading_policy
from supervision.credit.grading import summary
from supervision.credit.grading.models import Grade, GradingRun, GradingRunPolicy
from supervision.credit.models import CreditRecord, Penalty
from supervision.credit.policies import Policies
from supervision.credit.publicity import publicity_of
from supervision.errors import NotFound
from supervision.registry.models import Establishment, Jurisdiction

FEED_PAGE_SIZE = 1000


@dataclass
class PublishedTable:
    run_id: int
    year: int
    jurisdiction: str
    published_on: date
    counts: dict


def publication_day(session: Session, run: GradingRun) -> date:
    """The publication day of the run's year under the grading policy the run used."""
    stored = session.execute(select(GradingRunPolicy).where(GradingRunPolicy.run_id == run.id,
                                                            GradingRunPolicy.kind == grading_policy.KIND)
                             .order_by(GradingRunPolicy.effective_from.desc()).limit(1)).scalar_one_or_none()
    if stored is None:
        return date(run.year + 1, 1, 25)
    document = policy.parse(grading_policy.KIND, stored.text, path=stored.path, jurisdiction=stored.jurisdiction,
                            effective_from=stored.effective_from)
    return document.value.calendar.day("publication", run.year)


def published_tables(session: Session, today: date) -> list[PublishedTable]:
    runs = session.execute(select(GradingRun).where(GradingRun.status == "published")
                           .order_by(GradingRun.year.desc(), GradingRun.id.desc())).scalars().all()
    names = dict(session.execute(select(Jurisdiction.id, Jurisdiction.name)).all())
    tables = []
    for run in runs:
        day = publication_day(session, run)
        if day <= today:
            tables.append(PublishedTable(run.id, run.year, names.get(run.jurisdiction_id, "全部辖区"), day,
                                         run.counts or {}))
    return tables


def table_file(session: Session, run_id: int, suffix: str, today: date) -> tuple[bytes, str]:
    """The summary table of a published run as CSV or XLSX bytes, and a file name; NotFound
    before its publication day or for a run that is not published."""
    run = session.get(GradingRun, run_id)
    if run is None or run.status != "published" or publication_day(session, run) > today:
        raise NotFound("该评价结果尚未公布")
    name = f"summary-{run.year}-{run.id}.{suffix}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        summary.write_summary(session, path, year=run.year, run_id=run.id)
        return path.read_bytes(), name


# --- open data ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedVersion:
    seq: int
    at: datetime | None


def feed_version(session: Session, entity_types: tuple[str, ...]) -> FeedVersion:
    """The newest audit entry among the entity types a feed is made of: its ETag and
    Last-Modified. The date is part of the ETag too (publicity windows end by the calendar)."""
    seq = session.execute(select(func.max(AuditEntry.seq)).where(AuditEntry.entity_type.in_(entity_types))).scalar()
    at = session.execute(select(AuditEntry.at).where(AuditEntry.seq == seq)).scalar() if seq else None
    return FeedVersion(seq or 0, at)


GRADE_FIELDS = ["credit_code", "name", "jurisdiction", "category", "year", "grade", "score", "run_id"]
PENALTY_FIELDS = ["credit_code", "name", "decision_no", "decided_on", "penalty_type", "legal_basis", "fulfilled",
                  "under_review", "public_until"]


def grade_rows(session: Session, page: int) -> tuple[list[dict], bool]:
    names = dict(session.execute(select(Jurisdiction.id, Jurisdiction.name)).all())
    rows = session.execute(
        select(Establishment.credit_code, Establishment.name, Grade.jurisdiction_id, Grade.category_code,
               GradingRun.year, Grade.grade, Grade.score, GradingRun.id)
        .join(GradingRun, GradingRun.id == Grade.run_id).join(Establishment, Establishment.id == Grade.establishment_id)
        .where(GradingRun.status == "published")
        .order_by(GradingRun.id, Grade.id).offset((page - 1) * FEED_PAGE_SIZE).limit(FEED_PAGE_SIZE + 1)).all()
    out = [dict(zip(GRADE_FIELDS, (r[0], r[1], names.get(r[2], ""), r[3] or "", r[4], r[5], r[6], r[7])))
           for r in rows[:FEED_PAGE_SIZE]]
    return out, len(rows) > FEED_PAGE_SIZE


def penalty_rows(session: Session, page: int, today: date) -> tuple[list[dict], bool]:
    """Public penalties (inside their publicity window, not repaired) of one page of decisions;
    a page may hold fewer rows than the page size."""
    policies = Policies.current(session)
    rows = session.execute(
        select(Penalty, CreditRecord, Establishment.credit_code, Establishment.name)
        .join(CreditRecord, CreditRecord.id == Penalty.credit_record_id)
        .join(Establishment, Establishment.id == Penalty.establishment_id)
        .order_by(Penalty.id).offset((page - 1) * FEED_PAGE_SIZE).limit(FEED_PAGE_SIZE + 1)).all()
    out = []
    for penalty, record, code, name in rows[:FEED_PAGE_SIZE]:
        publicity = publicity_of(penalty, on=today, policies=policies, record=record)
        if not publicity.public:
            continue
        out.append(dict(zip(PENALTY_FIELDS, (
            code, name, penalty.decision_no, penalty.decided_on.isoformat(),
            codes.PENALTY_TYPE_NAMES.get(penalty.penalty_type, penalty.penalty_type), penalty.legal_basis,
            penalty.fulfilled_on is not None, publicity.under_review,
            publicity.public_until.isoformat() if publicity.public_until else None))))
    return out, len(rows) > FEED_PAGE_SIZE
