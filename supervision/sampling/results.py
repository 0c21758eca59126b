"""Progress of a plan's draws for supervisors, and the published results of finished random
inspections (一公开): the per-plan page, the plate page's recent results, the results table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision.errors import NotFound
from supervision.inspections.models import Finding, Inspection, Task
from supervision.registry.models import Establishment
from supervision.sampling.models import Draw, DrawTarget
from supervision.sampling.plan import STRATA
from supervision.timeutil import with_offset


def progress(session: Session, draw_id: int) -> dict:
    """Coverage and completion per grade stratum of one draw, and of its whole plan."""
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("抽查不存在")
    done = (select(Inspection.task_id).where(Inspection.status == "complete", Inspection.superseded_at.is_(None))
            .scalar_subquery())

    def rows(draw_ids):
        per = {s: {"drawn": 0, "paired": 0, "completed": 0} for s in STRATA}
        for stratum, paired, completed, count in session.execute(
                select(DrawTarget.stratum, DrawTarget.task_id.is_not(None), DrawTarget.task_id.in_(done), func.count())
                .where(DrawTarget.draw_id.in_(draw_ids))
                .group_by(DrawTarget.stratum, DrawTarget.task_id.is_not(None), DrawTarget.task_id.in_(done))):
            per[stratum]["drawn"] += count
            if paired:
                per[stratum]["paired"] += count
            if completed:
                per[stratum]["completed"] += count
        return per

    def finish(per, candidates):
        total = {k: sum(p[k] for p in per.values()) for k in ("drawn", "paired", "completed")}
        for s, p in per.items():
            p["candidates"] = candidates.get(s)
            p["coverage"] = round(p["drawn"] / candidates[s], 4) if candidates.get(s) else None
            p["completion"] = round(p["completed"] / p["paired"], 4) if p["paired"] else None
        total["candidates"] = sum(v for v in candidates.values() if v)
        total["coverage"] = round(total["drawn"] / total["candidates"], 4) if total["candidates"] else None
        total["completion"] = round(total["completed"] / total["paired"], 4) if total["paired"] else None
        return {"strata": per, "total": total}

    strata = (draw.summary or {}).get("strata", {})
    this = finish(rows([draw.id]), {s: strata.get(s, {}).get("candidates", 0) for s in STRATA})
    plan_draws = list(session.execute(select(Draw).where(Draw.plan_code == draw.plan_code, Draw.status == "drawn")
                                      .order_by(Draw.id)).scalars())
    # A plan's later draws exclude earlier targets, so its population is the first draw's.
    first = (plan_draws[0].summary or {}).get("strata", {}) if plan_draws else strata
    whole = finish(rows([d.id for d in plan_draws]), {s: first.get(s, {}).get("candidates", 0) for s in STRATA})
    return {"draw_id": draw.id, "plan_code": draw.plan_code, "draw": this, "plan": whole,
            "draw_ids": [d.id for d in plan_draws]}


@dataclass
class PublishedResult:
    plan_code: str
    plan_title: str
    draw_id: int
    establishment_id: int
    establishment_name: str
    credit_code: str
    inspected_on: date
    findings: int

    @property
    def outcome(self) -> str:
        return "未发现问题" if self.findings == 0 else f"发现问题 {self.findings} 项"


def _published(session: Session, *conditions, limit: int | None = None) -> list[PublishedResult]:
    """Finished random inspections: the current, complete inspection of a drawn target's task."""
    findings = (select(func.count(Finding.id)).where(Finding.inspection_uuid == Inspection.uuid)
                .correlate(Inspection).scalar_subquery())
    query = (select(Draw.plan_code, Draw.summary, Draw.id, Establishment.id, Establishment.name,
                    Establishment.credit_code, Inspection.started_at, Inspection.started_offset_min, findings)
             .join(DrawTarget, DrawTarget.draw_id == Draw.id)
             .join(Task, Task.id == DrawTarget.task_id)
             .join(Inspection, Inspection.task_id == Task.id)
             .join(Establishment, Establishment.id == DrawTarget.establishment_id)
             .where(Inspection.status == "complete", Inspection.superseded_at.is_(None), *conditions)
             .order_by(Inspection.started_at.desc(), Establishment.id))
    if limit:
        query = query.limit(limit)
    return [PublishedResult(code, (summary or {}).get("plan", {}).get("title", code), draw_id, eid, name, cc,
                            with_offset(started, offset).date(), n)
            for code, summary, draw_id, eid, name, cc, started, offset, n in session.execute(query)]


def plan_results(session: Session, plan_code: str) -> tuple[dict, list[PublishedResult]]:
    """A plan as published, and every finished inspection of its targets."""
    draws = list(session.execute(select(Draw).where(Draw.plan_code == plan_code, Draw.status == "drawn")
                                 .order_by(Draw.id)).scalars())
    if not draws:
        raise NotFound("抽查计划不存在")
    plan = draws[-1].summary["plan"]
    drawn = session.execute(select(func.count()).select_from(DrawTarget)
                            .where(DrawTarget.draw_id.in_([d.id for d in draws]))).scalar_one()
    info = {"plan": plan, "draws": [{"id": d.id, "drawn_at": d.drawn_at, "seed": d.seed,
                                     "candidates": d.candidate_count} for d in draws], "drawn": drawn}
    return info, _published(session, Draw.plan_code == plan_code)


def recent_random_results(session: Session, establishment_id: int, limit: int = 5) -> list[PublishedResult]:
    """The establishment's latest finished random inspections, newest first: for its plate page."""
    return _published(session, DrawTarget.establishment_id == establishment_id, limit=limit)


RESULT_COLUMNS = ("抽查计划", "抽取批次", "单位名称", "统一社会信用代码", "检查日期", "检查结果")


def result_rows(session: Session, draw_id: int) -> list[tuple]:
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("抽查不存在")
    return [(r.plan_code, r.draw_id, r.establishment_name, r.credit_code, r.inspected_on.isoformat(), r.outcome)
            for r in _published(session, Draw.plan_code == draw.plan_code)]


@dataclass
class DrawView:
    """A draw as a terminal may read it: the plan, seed and digests, counts per stratum, and
    the targets its own inspector was drawn for."""

    id: int
    plan: dict
    status: str
    seed: str
    chain_hash: str
    plan_sha256: str
    candidate_sha256: str | None
    result_sha256: str | None
    candidates: int | None
    drawn: int | None
    strata: dict
    my_targets: list


def draw_for_actor(session: Session, actor, draw_id: int) -> DrawView:
    """Read a draw; a device or desk user only when the plan's scope covers its jurisdiction."""
    from supervision.errors import Forbidden
    from supervision.sampling import candidates as reading
    from supervision.sampling.plan import Plan

    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("抽查不存在")
    plan = Plan.from_dict(draw.summary["plan"])
    scope = reading.resolve_scope(session, plan)
    if not any(actor.covers(j) for j in scope.jurisdiction_ids):
        raise Forbidden("该抽查不在本辖区")
    mine = []
    if actor.inspector_id is not None:
        mine = [{"establishment_id": t.establishment_id, "stratum": t.stratum, "task_id": t.task_id,
                 "inspector_ids": list(t.inspector_ids)}
                for t in session.execute(select(DrawTarget).where(DrawTarget.draw_id == draw.id)
                                         .order_by(DrawTarget.position)).scalars()
                if actor.inspector_id in (t.inspector_ids or [])]
    summary = draw.summary or {}
    return DrawView(draw.id, summary["plan"], draw.status, draw.seed, draw.chain_hash, draw.plan_sha256,
                    draw.candidate_sha256, draw.result_sha256, summary.get("candidates"), summary.get("drawn"),
                    {s: {k: v for k, v in r.items()} for s, r in summary.get("strata", {}).items()}, mine)
