"""Yearly grading runs: compute a draft, approve, publish, re-open. Publishing and superseding
keep the current grades (`current.refresh`) in the same transaction.

Transaction rule: nothing here commits. The CLI (or the job wrapper) commits once the whole run
is written, so a failed run leaves nothing behind.

Re-running: `run_grading` for a (year, scope) that has a draft *replaces* that draft (the old
draft and its grades are deleted, a new run id is returned). It refuses when the scope already
has an approved or published run: that result is changed only by `reopen`, with a reason.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import events
from supervision.credit.grading import current, engine, lists
from supervision.credit.grading import policy as grading_policy
from supervision.credit.grading.engine import Group, Plan, doc_key
from supervision.credit.grading.models import Grade, GradeContribution, GradingRun, GradingRunPolicy
from supervision.credit.grading.policy import GRADES
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.modelbase import utcnow
from supervision.policy import PolicyDocument, PolicySet, jurisdiction_chain
from supervision.registry.models import Jurisdiction

Progress = Callable[[str], None]
STEPS = ("subjects", "records", "grades", "hard_rules", "stored")


@dataclass
class RunResult:
    run: GradingRun
    counts: dict[str, int]
    replaced_run_id: int | None = None


def _no_progress(step: str) -> None:
    pass


_LOCK_CLASS = 15  # pg_advisory_xact_lock(class, year): the grading runs of one year, one at a time


def _serialise(session: Session, year: int) -> None:
    """Two runs of the same year (cron and a supervisor, say) must not both replace the same
    draft. PostgreSQL: a transaction-scoped advisory lock; SQLite already serialises writers
    (every transaction begins IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:c, :y)"), {"c": _LOCK_CLASS, "y": year})


def get_run(session: Session, run_id: int) -> GradingRun:
    run = session.get(GradingRun, run_id)
    if run is None:
        raise NotFound(f"评价批次 {run_id} 不存在", fields={"run_id": ["不存在"]})
    return run


def _jurisdiction(session: Session, code: str | None) -> Jurisdiction | None:
    if code is None:
        return None
    found = session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"辖区“{code}”不存在", fields={"jurisdiction": ["辖区不存在"]})
    return found


def _all_jurisdictions(session: Session) -> list[Jurisdiction]:
    return list(session.execute(select(Jurisdiction).order_by(Jurisdiction.id)).scalars())


def _descendants(all_j: list[Jurisdiction], root: Jurisdiction | None) -> list[Jurisdiction]:
    if root is None:
        return all_j
    children: dict[int | None, list[Jurisdiction]] = {}
    for j in all_j:
        children.setdefault(j.parent_id, []).append(j)
    result, todo = [], [root]
    while todo:
        node = todo.pop()
        result.append(node)
        todo.extend(children.get(node.id, []))
    return result


def build_groups(policies: PolicySet, year: int, scope: Jurisdiction | None,
                 jurisdictions: list[Jurisdiction]) -> list[Group]:
    """Group the scope's jurisdictions by the documents they resolve to; one more group for
    practitioners, who are graded under the scope's own chain (they have no registry yet)."""
    period_end = date(year, 12, 31)

    def resolve(chain: list[str]) -> tuple[PolicyDocument, list]:
        document = grading_policy.resolve(policies, chain, period_end)
        earliest = min((document.value.window_start(k, year) for k in document.value.windows), default=period_end)
        return document, grading_policy.segments(policies, chain, earliest, period_end)

    groups: dict[tuple, Group] = {}
    for j in jurisdictions:
        document, segments = resolve(jurisdiction_chain(j))
        key = (doc_key(document), tuple((d, doc_key(s)) for d, s in segments))
        if key not in groups:
            groups[key] = Group(len(groups), [], document, segments)
        groups[key].jurisdiction_ids.append(j.id)
    result = list(groups.values())
    document, segments = resolve(jurisdiction_chain(scope) if scope else [])
    if "practitioner" in document.value.graded_subjects:
        result.append(Group(len(result), [], document, segments, practitioners=True))
    return result


def _used_documents(groups: list[Group]) -> list[PolicyDocument]:
    used: dict[tuple, PolicyDocument] = {}
    for g in groups:
        used.setdefault(doc_key(g.document), g.document)
        for _, d in g.segments:
            used.setdefault(doc_key(d), d)
    return sorted(used.values(), key=lambda d: (d.jurisdiction, d.effective_from))


def _counts(session: Session) -> dict[str, int]:
    rows = dict(session.execute(text("SELECT grade, COUNT(*) FROM gr_grades GROUP BY grade")).all())
    return {g: int(rows.get(g, 0)) for g in GRADES}


def _store(session: Session, run_id: int) -> None:
    """Copy the computed grades and contributions into the run. Grade ids were taken with the
    grades (engine.score), so contributions are written from the two temporary tables without
    joining `grades`."""
    session.execute(text(
        "INSERT INTO grades (id, run_id, subject_id, establishment_id, jurisdiction_id, category_code, score, grade, "
        "hard_rule, policy_id) SELECT grade_id, :run, subject_id, establishment_id, jurisdiction_id, category_code, score, "
        "grade, hard_rule, policy_ref FROM gr_grades"), {"run": run_id})
    session.execute(text(
        "INSERT INTO grade_contributions (grade_id, record_id, points, rule_key, policy_id, record_hash) "
        "SELECT g.grade_id, t.record_id, t.points, t.rule_key, t.policy_ref, t.record_hash "
        "FROM gr_records t JOIN gr_grades g ON g.subject_id = t.subject_id"))


def _compute(session: Session, actor: audit.Actor, *, year: int, scope: Jurisdiction | None, by: str,
             policy_roots: Iterable[Path | str | None], progress: Progress, now: datetime | None,
             list_members=None, supersedes: GradingRun | None = None, reason: str | None = None,
             policies: PolicySet | None = None, only_subjects: list[int] | None = None) -> RunResult:
    if policies is None:
        policies = grading_policy.load(policy_roots)  # a bad file is refused before anything is written
    all_j = _all_jurisdictions(session)
    in_scope = _descendants(all_j, scope)
    groups = build_groups(policies, year, scope, in_scope)
    calendar = grading_policy.resolve(policies, jurisdiction_chain(scope) if scope else [], date(year, 12, 31)).value.calendar
    as_of = min(calendar.cutoff_instant(year), now or utcnow())

    run = GradingRun(year=year, jurisdiction_id=scope.id if scope else None, status="draft", data_as_of=as_of,
                     counts={}, created_by=by, supersedes_id=supersedes.id if supersedes else None,
                     reopen_reason=reason)
    session.add(run)
    session.flush()
    policy_ids = {}
    for document in _used_documents(groups):
        row = GradingRunPolicy(run_id=run.id, kind=document.kind, jurisdiction=document.jurisdiction,
                               effective_from=document.effective_from, path=document.path, text=document.text,
                               sha256=document.sha256)
        session.add(row)
        session.flush()
        policy_ids[doc_key(document)] = row.id
    members = list_members or (lambda name, on: lists.members(session, name, on))
    plan = Plan(year, as_of, groups, policy_ids, members)

    engine.prepare(session)
    scope_ids = [j.id for j in in_scope]
    producing = "1 = 1" if scope is None else f"r.producing_unit_id IN ({', '.join(str(int(i)) for i in scope_ids)})"
    engine.subjects_from_scope(session, plan, producing)
    if only_subjects is not None:  # a partial re-run (regrade_subjects)
        keep = ", ".join(str(int(i)) for i in only_subjects) or "NULL"
        session.execute(text(f"DELETE FROM gr_subjects WHERE subject_id NOT IN ({keep})"))
    progress("subjects")
    engine.score(session, plan, progress)
    _store(session, run.id)
    run.counts = _counts(session)
    engine.drop(session)
    progress("stored")
    audit.record(session, actor, "grade_run", run, after=lambda: {**run.audit_snapshot(), "by": by})
    return RunResult(run, run.counts)


def run_grading(session: Session, actor: audit.Actor, *, year: int, jurisdiction: str | None = None,
                by: str | None = None, policy_roots: Iterable[Path | str | None] = (),
                progress: Progress = _no_progress, now: datetime | None = None, list_members=None) -> RunResult:
    """A draft run for every active establishment of the scope (see the module docstring for
    what a second run of the same scope does)."""
    today = (now or utcnow()).date()
    if not 2000 <= year < today.year + 1:
        raise ValidationFailed(f"评价年度 {year} 无效：只能评价已开始的年度", fields={"year": ["年度无效"]})
    scope = _jurisdiction(session, jurisdiction)
    policies = grading_policy.load(policy_roots)  # a bad file is refused before anything changes
    _serialise(session, year)
    in_scope = GradingRun.jurisdiction_id == scope.id if scope else GradingRun.jurisdiction_id.is_(None)
    existing = list(session.execute(select(GradingRun).where(
        GradingRun.year == year, in_scope, GradingRun.status.in_(("draft", "approved", "published")))).scalars())
    if any(r.status != "draft" for r in existing):
        done = next(r for r in existing if r.status != "draft")
        raise Conflict(f"该辖区 {year} 年度已有{_STATUS_NAMES[done.status]}的评价批次 {done.id}；"
                       f"如需更正，请用 grade reopen 重新开启", fields={"year": ["已有审核或发布的批次"]})
    replaced = None
    for draft in existing:
        replaced = draft.id
        audit.record(session, actor, "delete", entity_type="grading_runs", entity_id=draft.id,
                     before={"id": draft.id, "year": draft.year, "counts": draft.counts, "replaced_by": "new draft"})
        _delete_run(session, draft)
    result = _compute(session, actor, year=year, scope=scope, by=by or actor.ref, policy_roots=policy_roots,
                      progress=progress, now=now, list_members=list_members, policies=policies)
    result.replaced_run_id = replaced
    return result


_STATUS_NAMES = {"draft": "草稿", "approved": "已审核", "published": "已发布", "superseded": "已被取代"}


def _require_by(by: str | None) -> str:
    if not by or not by.strip():
        raise ValidationFailed("须写明经办人姓名（--by）", fields={"by": ["必填"]})
    return by.strip()


def _delete_run(session: Session, run: GradingRun) -> None:
    grade_ids = select(Grade.id).where(Grade.run_id == run.id).scalar_subquery()
    session.execute(delete(GradeContribution).where(GradeContribution.grade_id.in_(grade_ids)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(Grade).where(Grade.run_id == run.id), execution_options={"synchronize_session": False})
    session.execute(delete(GradingRunPolicy).where(GradingRunPolicy.run_id == run.id),
                    execution_options={"synchronize_session": False})
    session.execute(delete(GradingRun).where(GradingRun.id == run.id), execution_options={"synchronize_session": False})
    session.expunge(run)


def approve(session: Session, actor: audit.Actor, run_id: int, *, by: str) -> GradingRun:
    by = _require_by(by)
    run = get_run(session, run_id)
    if run.status != "draft":
        raise Conflict(f"只能审核草稿；批次 {run.id} {_STATUS_NAMES[run.status]}", fields={"run_id": ["状态不允许"]})
    before = run.audit_snapshot()
    run.status, run.approved_by, run.approved_at = "approved", by, utcnow()
    audit.record(session, actor, "grade_approve", run, before=before)
    return run


def publish(session: Session, actor: audit.Actor, run_id: int, *, by: str) -> GradingRun:
    """Publish an approved run: it becomes immutable, its digest goes into the audit chain, and
    the run it re-opened (if any) is superseded."""
    by = _require_by(by)
    run = get_run(session, run_id)
    if run.status != "approved":
        raise Conflict(f"只能发布已审核的批次；批次 {run.id} {_STATUS_NAMES[run.status]}", fields={"run_id": ["状态不允许"]})
    before = run.audit_snapshot()
    session.flush()
    run.digest = digest(session, run)
    run.status, run.published_by, run.published_at = "published", by, utcnow()
    changed = [run.id]
    if run.supersedes_id is not None:
        old = get_run(session, run.supersedes_id)
        if old.status == "published":
            old_before = old.audit_snapshot()
            old.status, old.superseded_at = "superseded", utcnow()
            audit.record(session, actor, "grade_supersede", old, before=old_before)
            changed.append(old.id)
    current.refresh(session, changed)
    audit.record(session, actor, "grade_publish", run, before=before)
    events.emit(session, "grading.published", {"run_id": run.id, "year": run.year, "digest": run.digest})
    # A second entry of its own type tells terminals that grades changed in bulk (sync.BULK_TYPES).
    audit.record(session, actor, "publish", entity_type="grade_publications", entity_id=run.id,
                 after={"run_id": run.id, "year": run.year, "jurisdiction_id": run.jurisdiction_id, "digest": run.digest})
    return run


def reopen(session: Session, actor: audit.Actor, run_id: int, *, reason: str, by: str,
           policy_roots: Iterable[Path | str | None] = (), progress: Progress = _no_progress,
           now: datetime | None = None, list_members=None) -> RunResult:
    """A new draft for the same year and scope that, once published, supersedes this run. An
    approved but unpublished run was never public: it is superseded at once."""
    by = _require_by(by)
    if not reason or not reason.strip():
        raise ValidationFailed("须写明重新开启的理由（--reason）", fields={"reason": ["必填"]})
    policies = grading_policy.load(policy_roots)
    run = get_run(session, run_id)
    _serialise(session, run.year)
    session.refresh(run)
    if run.status not in ("approved", "published"):
        raise Conflict(f"只能重新开启已审核或已发布的批次；批次 {run.id} {_STATUS_NAMES[run.status]}",
                       fields={"run_id": ["状态不允许"]})
    pending = session.execute(select(GradingRun.id).where(GradingRun.supersedes_id == run.id,
                                                          GradingRun.status.in_(("draft", "approved")))).first()
    if pending:
        raise Conflict(f"批次 {run.id} 已有待审核的重新开启批次 {pending[0]}", fields={"run_id": ["已重新开启"]})
    if run.status == "approved":
        before = run.audit_snapshot()
        run.status, run.superseded_at = "superseded", utcnow()
        audit.record(session, actor, "grade_supersede", run, before=before)
    scope = session.get(Jurisdiction, run.jurisdiction_id) if run.jurisdiction_id else None
    return _compute(session, actor, year=run.year, scope=scope, by=by, policy_roots=policy_roots, progress=progress,
                    now=now, list_members=list_members, supersedes=run, reason=reason.strip(), policies=policies)


def regrade_subjects(session: Session, actor: audit.Actor, subject_ids: Iterable[int], *, reason: str, by: str,
                     since_year: int | None = None, policy_roots: Iterable[Path | str | None] = (),
                     now: datetime | None = None) -> list[GradingRun]:
    """Re-compute the published grades of some subjects after their records changed (an upheld
    objection): for every published run holding a grade of one of them (of `since_year` or
    later), a new run of the same year and scope graded for those subjects only, published at
    once. It supersedes the old run *for those subjects*: the current grade is the newest
    publication of a year (`current`), while the old run stays published for everyone else.
    Returns the new runs."""
    by = _require_by(by)
    ids = sorted(set(int(i) for i in subject_ids))
    if not ids:
        return []
    policies = grading_policy.load(policy_roots)
    query = (select(GradingRun, Grade.subject_id).join(Grade, Grade.run_id == GradingRun.id)
             .where(GradingRun.status == "published", Grade.subject_id.in_(ids)).order_by(GradingRun.id))
    if since_year is not None:
        query = query.where(GradingRun.year >= since_year)
    affected: dict[int, tuple[GradingRun, list[int]]] = {}
    for run, subject_id in session.execute(query).all():
        affected.setdefault(run.id, (run, []))[1].append(subject_id)
    # One new run per year and scope, superseding that scope's newest publication.
    latest: dict[tuple, tuple[GradingRun, list[int]]] = {}
    for run, subjects in affected.values():
        key = (run.year, run.jurisdiction_id)
        if key in latest:
            newest = max(latest[key][0], run, key=lambda r: (r.published_at, r.id))
            latest[key] = (newest, latest[key][1] + subjects)
        else:
            latest[key] = (run, list(subjects))
    new_runs = []
    for old, subjects in sorted(latest.values(), key=lambda item: (item[0].year, item[0].id)):
        _serialise(session, old.year)
        scope = session.get(Jurisdiction, old.jurisdiction_id) if old.jurisdiction_id else None
        result = _compute(session, actor, year=old.year, scope=scope, by=by, policy_roots=policy_roots,
                          progress=_no_progress, now=now, supersedes=old, reason=reason, policies=policies,
                          only_subjects=sorted(set(subjects)))
        run = result.run
        session.flush()
        before = run.audit_snapshot()
        run.digest = digest(session, run)
        at = utcnow()
        run.status, run.approved_by, run.approved_at, run.published_by, run.published_at = "published", by, at, by, at
        current.refresh(session, [run.id])
        audit.record(session, actor, "grade_publish", run, before=before,
                     after=lambda run=run: {**run.audit_snapshot(), "partial_for_subjects": sorted(set(subjects))})
        audit.record(session, actor, "publish", entity_type="grade_publications", entity_id=run.id,
                     after={"run_id": run.id, "year": run.year, "jurisdiction_id": run.jurisdiction_id,
                            "digest": run.digest, "partial": True})
        new_runs.append(run)
    return new_runs


def digest(session: Session, run: GradingRun) -> str:
    """SHA-256 over the run's policies, grades and contributions, in a fixed order."""
    h = hashlib.sha256()
    h.update(f"run|{run.id}|{run.year}|{run.jurisdiction_id}|{run.data_as_of.isoformat()}\n".encode())
    shas = {}
    for p in session.execute(select(GradingRunPolicy).where(GradingRunPolicy.run_id == run.id)
                             .order_by(GradingRunPolicy.id)).scalars():
        shas[p.id] = p.sha256
        h.update(f"policy|{p.jurisdiction}|{p.effective_from.isoformat()}|{p.sha256}\n".encode())
    for row in session.execute(select(Grade.subject_id, Grade.establishment_id, Grade.score, Grade.grade,
                                      Grade.hard_rule, Grade.policy_id).where(Grade.run_id == run.id)
                               .order_by(Grade.subject_id).execution_options(yield_per=10000)):
        h.update(f"g|{row[0]}|{row[1]}|{row[2]}|{row[3]}|{row[4]}|{shas.get(row[5])}\n".encode())
    for row in session.execute(select(Grade.subject_id, GradeContribution.record_id, GradeContribution.points,
                                      GradeContribution.rule_key, GradeContribution.policy_id,
                                      GradeContribution.record_hash)
                               .join(Grade, Grade.id == GradeContribution.grade_id).where(Grade.run_id == run.id)
                               .order_by(Grade.subject_id, GradeContribution.record_id)
                               .execution_options(yield_per=10000)):
        h.update(f"c|{row[0]}|{row[1]}|{row[2]}|{row[3]}|{shas.get(row[4])}|{row[5]}\n".encode())
    return h.hexdigest()


def grading_job(year: int, jurisdiction: str | None = None, by: str = "system:cron") -> dict:
    """What a worker runs (`supervision.jobs.enqueue(grading_job, year)`; `jobs.run_job` gives
    it the worker's app context) or cron through the CLI: one run, committed at the end. A job is
    an interface: it ends its own unit of work."""
    from flask import current_app

    from supervision.extensions import db
    from supervision.transaction import unit_of_work

    with unit_of_work(db.session):
        result = run_grading(db.session, audit.Actor.system("grading"), year=year, jurisdiction=jurisdiction, by=by,
                             policy_roots=[current_app.config.get("POLICY_DIR")])
    return {"run_id": result.run.id, "counts": result.counts}
