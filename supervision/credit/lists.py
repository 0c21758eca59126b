"""Red list and blacklist (守信红名单 / 失信黑名单, seed 001 §三(一)) and the yearly commendation
of A-grade establishments (通报表扬, seed 003 §四(五)).

Entry rules are policy data (kind `credit_lists`): A in `consecutive_years` consecutive
published years → red list; the latest published grade in `blacklist.grades`, or a dishonesty
record of `dishonesty_severity` within the window → blacklist. Entry is in two steps: `evaluate`
notifies (告知) the establishment and opens an objection window of working days; `advance`
enters it once the window has closed (and exits entries whose period elapsed). An objection to
the notice that is upheld withdraws it (`withdraw`); an approved credit repair takes the
establishment off the blacklist (`exit_on_repair`). Entering and exiting are events for other
systems.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import lifecycle_rules  # noqa: F401  (registers the policy kinds)
from supervision.credit.calendar import CalendarGap, WorkingDays, add_months
from supervision.credit.events import emit
from supervision.credit.grading.lists import LIST_NAMES, in_force
from supervision.credit.grading.models import Grade, GradingRun
from supervision.credit.lifecycle_models import ListEntry
from supervision.credit.models import CreditRecord
from supervision.credit.policies import Policies
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.registry.models import Establishment, Jurisdiction

KIND = "credit_lists"
LIST_TITLES = {"redlist": "守信红名单", "blacklist": "失信黑名单"}
STATUS_NAMES = {"notified": "已告知（异议期）", "entered": "已列入", "withdrawn": "已撤回", "exited": "已移出"}


def published_grades(session: Session, subject_ids: list[int]) -> dict[int, dict[int, Grade]]:
    """Each subject's published grade per year (the newest publication of the year)."""
    if not subject_ids:
        return {}
    rows = session.execute(
        select(Grade, GradingRun.year).join(GradingRun, GradingRun.id == Grade.run_id)
        .where(GradingRun.status == "published", Grade.subject_id.in_(subject_ids))
        .order_by(Grade.subject_id, GradingRun.year, GradingRun.published_at, GradingRun.id)).all()
    result: dict[int, dict[int, Grade]] = {}
    for grade, year in rows:
        result.setdefault(grade.subject_id, {})[year] = grade  # later publications overwrite
    return result


@dataclass
class Candidate:
    establishment: Establishment
    list_name: str
    rule_key: str
    reason: str
    cause_record_id: int | None = None


def _dishonesty(session: Session, subject_ids: list[int], on: date, earliest: date) -> dict[int, list]:
    """Counting dishonesty records that arose in (earliest, on], per subject, newest first: one
    query for the whole scope."""
    found: dict[int, list] = {}
    for start in range(0, len(subject_ids), 5000):
        rows = session.execute(select(CreditRecord.subject_id, CreditRecord.id, CreditRecord.title, CreditRecord.severity,
                                      CreditRecord.arose_on).where(
            CreditRecord.subject_id.in_(subject_ids[start:start + 5000]), CreditRecord.kind == "dishonesty",
            CreditRecord.status.in_(("effective", "under_objection")), CreditRecord.superseded_at.is_(None),
            CreditRecord.arose_on > earliest, CreditRecord.arose_on <= on)
            .order_by(CreditRecord.arose_on.desc(), CreditRecord.id.desc())).all()
        for row in rows:
            found.setdefault(row.subject_id, []).append(row)
    return found


def _candidates(session: Session, policies: Policies, establishments: list[Establishment], on: date) -> list[Candidate]:
    subject_ids = [e.subject_id for e in establishments]
    grades = published_grades(session, subject_ids)
    rules_of = {e.id: policies.resolve(KIND, e.jurisdiction_id, on).value for e in establishments}
    windows = [r.black_within_months for r in rules_of.values() if r.black_severity]
    dishonesty = _dishonesty(session, subject_ids, on, add_months(on, -max(windows))) if windows else {}
    result = []
    for e in establishments:
        rules = rules_of[e.id]
        by_year = grades.get(e.subject_id, {})
        if by_year:
            latest = max(by_year)
            years = list(range(latest - rules.red_years + 1, latest + 1))
            if all(y in by_year and by_year[y].grade == rules.red_grade for y in years):
                result.append(Candidate(e, "redlist", "consecutive_grade",
                                        f"{years[0]}–{years[-1]} 年度连续 {rules.red_years} 年信用等级为 {rules.red_grade}"))
            if by_year[latest].grade in rules.black_grades:
                result.append(Candidate(e, "blacklist", "grade",
                                        f"{latest} 年度信用等级为 {by_year[latest].grade}"))
                continue
        if rules.black_severity:
            since = add_months(on, -rules.black_within_months)
            hit = next((r for r in dishonesty.get(e.subject_id, ())
                        if r.severity == rules.black_severity and r.arose_on > since), None)
            if hit is not None:
                result.append(Candidate(e, "blacklist", "serious_dishonesty", f"有严重失信行为：{hit.title}（信用信息 {hit.id}）",
                                        hit.id))
    return result


def establishments_in_scope(session: Session, actor: audit.Actor, jurisdiction: str | None) -> list[Establishment]:
    query = select(Establishment).where(Establishment.status == "active").order_by(Establishment.id)
    if jurisdiction:
        j = session.execute(select(Jurisdiction).where(Jurisdiction.code == jurisdiction)).scalar_one_or_none()
        if j is None:
            raise NotFound(f"辖区“{jurisdiction}”不存在", fields={"jurisdiction": ["辖区不存在"]})
        ids = _descendant_ids(session, j.id)
        query = query.where(Establishment.jurisdiction_id.in_(ids))
    return [e for e in session.execute(query).scalars() if actor.covers(e.jurisdiction_id)]


def _descendant_ids(session: Session, root_id: int) -> list[int]:
    rows = session.execute(select(Jurisdiction.id, Jurisdiction.parent_id)).all()
    children: dict[int, list[int]] = {}
    for jid, parent in rows:
        children.setdefault(parent, []).append(jid)
    result, todo = [], [root_id]
    while todo:
        node = todo.pop()
        result.append(node)
        todo.extend(children.get(node, []))
    return result


def _open_entry(session: Session, subject_id: int, list_name: str, on: date) -> ListEntry | None:
    pending = session.execute(select(ListEntry).where(ListEntry.subject_id == subject_id, ListEntry.list_name == list_name,
                                                      ListEntry.status == "notified")).scalars().first()
    if pending is not None:
        return pending
    return session.execute(select(ListEntry).where(ListEntry.subject_id == subject_id, ListEntry.list_name == list_name,
                                                   *in_force(on))).scalars().first()


def evaluate(session: Session, actor: audit.Actor, *, on: date, jurisdiction: str | None = None,
             policies: Policies | None = None) -> list[ListEntry]:
    """Notify (告知) every establishment that meets an entry rule and is not on (or on its way
    to) that list; returns the new notices. The objection window is counted in working days; a
    window the calendar does not cover leaves `objection_until` empty (flagged, never entered
    by `advance` until an administrator extends the calendar and runs `evaluate` again)."""
    policies = policies or Policies.current(session)
    workdays = WorkingDays(session)
    notices = []
    for c in _candidates(session, policies, establishments_in_scope(session, actor, jurisdiction), on):
        if _open_entry(session, c.establishment.subject_id, c.list_name, on) is not None:
            continue
        rules = policies.resolve(KIND, c.establishment.jurisdiction_id, on).value
        try:
            until = workdays.add(on, rules.notice_working_days)
            reason = c.reason
        except CalendarGap as gap:
            until, reason = None, f"{c.reason}；异议期无法计算：{gap}"
        entry = ListEntry(list_name=c.list_name, subject_id=c.establishment.subject_id,
                          establishment_id=c.establishment.id, rule_key=c.rule_key, reason=reason,
                          cause_record_id=c.cause_record_id, status="notified",
                          notified_on=on, objection_until=until)
        session.add(entry)
        session.flush()
        audit.record(session, actor, "credit_list.notify", entry)
        notices.append(entry)
    return notices


def _payload(session: Session, entry: ListEntry) -> dict:
    establishment = session.get(Establishment, entry.establishment_id)
    return {"list": entry.list_name, "list_title": LIST_TITLES[entry.list_name], "entry_id": entry.id,
            "credit_code": establishment.credit_code, "name": establishment.name, "entered_on": entry.entered_on,
            "expires_on": entry.expires_on, "exited_on": entry.exited_on, "exit_reason": entry.exit_reason}


def advance(session: Session, actor: audit.Actor, *, on: date, policies: Policies | None = None) -> tuple[list, list]:
    """Enter the notified establishments whose objection window closed before `on`; exit the
    entries whose period has elapsed by `on`. Idempotent, safe to run daily."""
    policies = policies or Policies.current(session)
    entered, exited = [], []
    due = session.execute(select(ListEntry).where(ListEntry.status == "notified", ListEntry.objection_until.is_not(None),
                                                  ListEntry.objection_until < on).order_by(ListEntry.id)).scalars().all()
    for entry in due:
        establishment = session.get(Establishment, entry.establishment_id)
        rules = policies.resolve(KIND, establishment.jurisdiction_id, on).value
        months = rules.red_months if entry.list_name == "redlist" else rules.black_months
        before = entry.audit_snapshot()
        entry.status, entry.entered_on, entry.expires_on = "entered", on, add_months(on, months)
        audit.record(session, actor, "credit_list.enter", entry, before=before)
        emit(session, "list.entered", _payload(session, entry), subject_id=entry.subject_id)
        entered.append(entry)
    ended = session.execute(select(ListEntry).where(ListEntry.status == "entered", ListEntry.expires_on <= on)
                            .order_by(ListEntry.id)).scalars().all()
    for entry in ended:
        exited.append(_exit(session, actor, entry, entry.expires_on, "名单期限届满"))
    return entered, exited


def _exit(session: Session, actor: audit.Actor, entry: ListEntry, on: date, reason: str) -> ListEntry:
    before = entry.audit_snapshot()
    entry.status, entry.exited_on, entry.exit_reason = "exited", on, reason
    audit.record(session, actor, "credit_list.exit", entry, before=before)
    emit(session, "list.exited", _payload(session, entry), subject_id=entry.subject_id)
    return entry


def exit_on_repair(session: Session, actor: audit.Actor, record_id: int, on: date, reason: str) -> list[ListEntry]:
    """An approved credit repair of the record that put a subject on the blacklist ends that
    entry (or withdraws the pending notice)."""
    result = []
    for entry in session.execute(select(ListEntry).where(ListEntry.cause_record_id == record_id,
                                                         ListEntry.list_name == "blacklist",
                                                         ListEntry.status.in_(("notified", "entered")))).scalars():
        if entry.status == "notified":
            before = entry.audit_snapshot()
            entry.status, entry.exit_reason = "withdrawn", reason
            audit.record(session, actor, "credit_list.withdraw", entry, before=before)
            result.append(entry)
        else:
            result.append(_exit(session, actor, entry, on, reason))
    return result


def withdraw(session: Session, actor: audit.Actor, entry_id: int, *, reason: str, by: str) -> ListEntry:
    """An objection to a notice was upheld: the establishment does not enter the list."""
    if not (reason or "").strip() or not (by or "").strip():
        raise ValidationFailed(fields={"reason": ["须写明理由和经办人"]})
    entry = get(session, actor, entry_id)
    if entry.status != "notified":
        raise Conflict("只能撤回尚在异议期的告知", code="invalid_transition", fields={"entry_id": ["状态不允许"]})
    before = entry.audit_snapshot()
    entry.status, entry.exit_reason = "withdrawn", f"{reason.strip()}（{by.strip()}）"
    audit.record(session, actor, "credit_list.withdraw", entry, before=before)
    return entry


def get(session: Session, actor: audit.Actor, entry_id: int) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None or not actor.covers(session.get(Establishment, entry.establishment_id).jurisdiction_id):
        raise NotFound("名单记录不存在", fields={"entry_id": ["不存在"]})
    return entry


def memberships(session: Session, subject_id: int, on: date) -> list[ListEntry]:
    """The list entries in force for a subject on a day (for pages and reports)."""
    return list(session.execute(select(ListEntry).where(ListEntry.subject_id == subject_id, *in_force(on))
                                .order_by(ListEntry.list_name, ListEntry.id)).scalars())


def titles_on(session: Session, subject_id: int, on: date) -> list[str]:
    """The Chinese titles of the lists a subject is on that day, red list first: what pages,
    reports and credit checks show. One query."""
    names = set(session.execute(select(ListEntry.list_name).where(ListEntry.subject_id == subject_id, *in_force(on))
                                .distinct()).scalars())
    return [title for name, title in LIST_TITLES.items() if name in names]


def entries(session: Session, actor: audit.Actor, *, list_name: str | None = None, status: str | None = None,
            subject_id: int | None = None) -> list[ListEntry]:
    query = select(ListEntry).order_by(ListEntry.id)
    if list_name:
        if list_name not in LIST_NAMES:
            raise ValidationFailed(fields={"list": [f"应为 {'、'.join(LIST_NAMES)}"]})
        query = query.where(ListEntry.list_name == list_name)
    if status:
        query = query.where(ListEntry.status == status)
    if subject_id is not None:
        query = query.where(ListEntry.subject_id == subject_id)
    rows = session.execute(query).scalars().all()
    jurisdictions = dict(session.execute(select(Establishment.id, Establishment.jurisdiction_id).where(
        Establishment.id.in_({r.establishment_id for r in rows}))).all())
    return [r for r in rows if actor.covers(jurisdictions[r.establishment_id])]


# --- yearly commendation (通报表扬) ----------------------------------------------------------

COMMENDATION_HEADER = ["统一社会信用代码", "单位名称", "辖区", "信用等级", "信用分", "评价年度"]


def commendation(session: Session, actor: audit.Actor, year: int) -> list[list]:
    """The establishments graded A in the published grading of `year`, for public commendation."""
    rows = session.execute(
        select(Establishment, Grade, Jurisdiction.name, GradingRun.published_at, GradingRun.id)
        .join(Grade, Grade.subject_id == Establishment.subject_id)
        .join(GradingRun, GradingRun.id == Grade.run_id)
        .join(Jurisdiction, Jurisdiction.id == Establishment.jurisdiction_id)
        .where(GradingRun.status == "published", GradingRun.year == year)
        .order_by(Establishment.id, GradingRun.published_at, GradingRun.id)).all()
    latest: dict[int, tuple] = {}
    for establishment, grade, jname, _, _ in rows:
        if actor.covers(establishment.jurisdiction_id):
            latest[establishment.id] = (establishment, grade, jname)
    return [[e.credit_code, e.name, jname, g.grade, g.score, year]
            for e, g, jname in sorted(latest.values(), key=lambda t: (t[2], t[0].credit_code)) if g.grade == "A"]


def write_table(rows: list[list], header: list[str], out: str) -> None:
    path = Path(out)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(v) for v in row])
        book.save(path)
    elif path.suffix.lower() == ".csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows([[_cell(v) for v in row] for row in rows])
    else:
        raise ValidationFailed(fields={"out": ["文件名须以 .csv 或 .xlsx 结尾"]})


def _cell(value):
    """A text cell that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
