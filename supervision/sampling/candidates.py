"""What a draw reads from the database: its scope, the candidate establishments with their
current grade and high-risk flag, and the inspector directory with its constraints."""
from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision.checklists.models import ChecklistTemplate
from supervision.credit.grading.models import GradeInForce
from supervision.inspections.models import Inspection, InspectionInspector
from supervision.registry.models import Establishment, EstablishmentCategory, Grid, Inspector, Jurisdiction, inspector_grids
from supervision.sampling.algorithm import Candidate, InspectorRow
from supervision.sampling.models import Draw, DrawTarget, InspectorConflict
from supervision.sampling.plan import Plan, PlanInvalid
from supervision.sampling.risk import high_risk_subjects


class Scope:
    def __init__(self, jurisdiction_ids: list[int], grid_ids: list[int], categories: list[str]):
        self.jurisdiction_ids, self.grid_ids, self.categories = jurisdiction_ids, grid_ids, categories


def _invalid(key: str, reason: str):
    raise PlanInvalid(f"抽查计划无效：[{key}] {reason}", fields={key: [reason]})


def resolve_scope(session: Session, plan: Plan) -> Scope:
    """The plan's codes as ids, each checked; a jurisdiction brings its sub-areas."""
    everything = session.execute(select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.parent_id)).all()
    by_code = {code: jid for jid, code, _ in everything}
    children: dict[int, list[int]] = {}
    for jid, _, parent in everything:
        children.setdefault(parent, []).append(jid)
    ids: set[int] = set()
    for code in plan.jurisdictions:
        if code not in by_code:
            _invalid("scope.jurisdictions", f"辖区“{code}”不存在")
        stack = [by_code[code]]
        while stack:
            jid = stack.pop()
            if jid not in ids:
                ids.add(jid)
                stack += children.get(jid, [])
    grid_ids = []
    if plan.grids:
        grids = dict(session.execute(select(Grid.code, Grid.id).where(Grid.code.in_(plan.grids))).all())
        for code in plan.grids:
            if code not in grids:
                _invalid("scope.grids", f"网格“{code}”不存在")
        grid_ids = [grids[c] for c in plan.grids]
    if plan.categories:
        known = set(session.execute(select(EstablishmentCategory.code)
                                    .where(EstablishmentCategory.code.in_(plan.categories))).scalars())
        for code in plan.categories:
            if code not in known:
                _invalid("scope.categories", f"单位类别“{code}”不存在")
    if session.execute(select(ChecklistTemplate.id).where(ChecklistTemplate.code == plan.checklist)).first() is None:
        _invalid("items.checklist", f"检查表“{plan.checklist}”不存在")
    return Scope(sorted(ids), grid_ids, list(plan.categories))


def candidate_query(plan: Plan, scope: Scope, draw_id: int):
    """The candidates with their current grade (the grading area's `grades_in_force`, one row
    per subject: a plain join the server can spread over its workers), in id order."""
    earlier = (select(DrawTarget.establishment_id).join(Draw, Draw.id == DrawTarget.draw_id)
               .where(Draw.plan_code == plan.code, Draw.id != draw_id))
    query = (select(Establishment.id, GradeInForce.grade, Establishment.grid_id, Establishment.jurisdiction_id)
             .outerjoin(GradeInForce, GradeInForce.subject_id == Establishment.subject_id)
             .where(Establishment.status != "closed", Establishment.jurisdiction_id.in_(scope.jurisdiction_ids),
                    Establishment.id.not_in(earlier)))
    if scope.grid_ids:
        query = query.where(Establishment.grid_id.in_(scope.grid_ids))
    if scope.categories:
        query = query.where(Establishment.category_code.in_(scope.categories))
    return query.order_by(Establishment.id)


def read_candidates(session: Session, plan: Plan, scope: Scope, draw_id: int) -> list[Candidate]:
    risky = high_risk_subjects(session, scope.jurisdiction_ids, plan.period_start)
    rows = session.execute(candidate_query(plan, scope, draw_id)).all()
    return [Candidate(i, g or "ungraded", grid, j, i in risky) for i, g, grid, j in rows]


def read_inspectors(session: Session, scope: Scope) -> list[InspectorRow]:
    """Active inspectors of the scope's jurisdictions, with their grids."""
    grids: dict[int, list[int]] = {}
    for inspector_id, grid_id in session.execute(
            select(inspector_grids.c.inspector_id, inspector_grids.c.grid_id)
            .join(Inspector, Inspector.id == inspector_grids.c.inspector_id)
            .where(Inspector.active.is_(True), Inspector.jurisdiction_id.in_(scope.jurisdiction_ids))):
        grids.setdefault(inspector_id, []).append(grid_id)
    return [InspectorRow(i, j, tuple(sorted(grids.get(i, ()))), f, u) for i, j, f, u in session.execute(
        select(Inspector.id, Inspector.jurisdiction_id, Inspector.certificate_valid_from, Inspector.certificate_valid_until)
        .where(Inspector.active.is_(True), Inspector.jurisdiction_id.in_(scope.jurisdiction_ids)).order_by(Inspector.id))]


def read_conflicts(session: Session, scope: Scope, establishment_ids: list[int]) -> set[tuple[int, int]]:
    """Declared conflicts with the targets. Read for the whole scope (a small table) and kept
    for the targets: an `IN` list of a few hundred thousand ids costs more than the rows."""
    wanted = set(establishment_ids)
    rows = session.execute(select(InspectorConflict.inspector_id, InspectorConflict.establishment_id)
                           .join(Establishment, Establishment.id == InspectorConflict.establishment_id)
                           .where(Establishment.jurisdiction_id.in_(scope.jurisdiction_ids)))
    return {(i, e) for i, e in rows if e in wanted}


def read_last_pairs(session: Session, scope: Scope, establishment_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """The inspectors of each target's latest current inspection."""
    wanted = set(establishment_ids)
    rank = func.row_number().over(partition_by=Inspection.establishment_id,
                                  order_by=(Inspection.started_at.desc(), Inspection.uuid.desc()))
    latest = (select(Inspection.uuid.label("uuid"), Inspection.establishment_id.label("eid"), rank.label("rn"))
              .join(Establishment, Establishment.id == Inspection.establishment_id)
              .where(Establishment.jurisdiction_id.in_(scope.jurisdiction_ids), Inspection.superseded_at.is_(None))
              .subquery())
    members: dict[int, list[int]] = {}
    for eid, iid in session.execute(select(latest.c.eid, InspectionInspector.inspector_id)
                                    .join(InspectionInspector, InspectionInspector.inspection_uuid == latest.c.uuid)
                                    .where(latest.c.rn == 1)):
        if eid in wanted:
            members.setdefault(eid, []).append(iid)
    return {eid: tuple(sorted(ids)) for eid, ids in members.items()}


# Memory for the draw's sorts and hashes in the server (`SET LOCAL`, this transaction only):
# with the default 4 MB the hash of a million current grades spills to disk.
DRAW_WORK_MEM = "256MB"


# How far above the expected share of keys a stratum's prefilter bound lies: standard
# deviations, and keys to spare (`prefilter_bound`).
PREFILTER_MARGIN = (6.0, 100)


def prefilter_bound(take: int, others: int, margin: tuple[float, int] = PREFILTER_MARGIN) -> str | None:
    """The exact prefilter of a stratum's ranking (docs/draws.md, "Where it runs"): a 16-hex-digit
    bound below which the first `take` of `others` keys almost surely lie. Keys are uniform, so
    about others × f of them fall below f × 16^16; f leaves `margin` (standard deviations, keys)
    to spare. None when the whole stratum is needed. The bound only spares the server sorting
    and sending the rest: when fewer than `take` keys fall below it, the caller reads the whole
    stratum, so the result never depends on it."""
    if take >= others:
        return None
    if take == 0:
        return "0" * 16
    deviations, spare = margin
    fraction = (take + deviations * take ** 0.5 + spare) / others
    if fraction >= 1:
        return None
    return f"{max(0, int(fraction * 16 ** 16)):016x}"


@dataclass
class DrawnRows:
    """What `read_drawn_postgresql` read: the strata's arithmetic, the rows that can be drawn
    (key, id, candidate) in (key, id) order, and the candidate list, built by the server while
    Python pairs (`candidate_text()` waits for it)."""
    total: int
    counts: dict
    needed: int
    takes: dict
    rows: list
    _text: Future

    def candidate_text(self) -> str:
        return self._text.result()


def read_drawn_postgresql(session: Session, plan: Plan, scope: Scope, draw_id: int, seed: str,
                          margin: tuple[float, int] = PREFILTER_MARGIN) -> DrawnRows:
    """The PostgreSQL path of reading and ranking (the algorithm unchanged): the candidates go
    once into a temporary table with their SHA-256 sort key computed by the server
    (`sha256()`, PostgreSQL ≥ 11); the server counts the strata, and Python receives only the
    high-risk rows and, per stratum, the others whose key lies below `prefilter_bound` (or all
    of them when too few do), sorted by the server in (key, id) order. The candidate list comes
    later, from `start_candidate_text`."""
    from sqlalchemy import text as sql
    from sqlalchemy.dialects import postgresql

    from supervision.sampling import algorithm
    from supervision.sampling.plan import STRATA

    if not all(c in "0123456789abcdef" for c in seed):
        raise ValueError("seed must be lower-case hex")
    risky = high_risk_subjects(session, scope.jurisdiction_ids, plan.period_start)
    session.execute(sql(f"SET LOCAL work_mem = '{DRAW_WORK_MEM}'"))
    session.execute(sql("DROP TABLE IF EXISTS pg_temp.draw_candidates"))
    query = candidate_query(plan, scope, draw_id).order_by(None).subquery()
    compiled = str(select(query).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    # Parallel workers are made free for this statement: with them the join and the SHA-256 keys
    # of a million rows are computed by every core, not by one.
    # The high-risk ids are a literal array (PostgreSQL hashes a long `= ANY`), not a temporary
    # table, which parallel workers could not read.
    risky_ids = "{" + ",".join(str(i) for i in sorted(risky)) + "}"
    session.execute(sql("SET LOCAL parallel_setup_cost = 0"))
    session.execute(sql("SET LOCAL parallel_tuple_cost = 0"))
    session.execute(sql(
        "CREATE TEMPORARY TABLE draw_candidates ON COMMIT DROP AS "
        "SELECT c.id, COALESCE(c.grade, 'ungraded') AS stratum, c.grid_id, c.jurisdiction_id, "
        f"(c.id = ANY('{risky_ids}'::integer[])) AS high_risk, "
        f"encode(sha256(convert_to('{seed}:' || c.id, 'UTF8')), 'hex') COLLATE \"C\" AS key "
        f"FROM ({compiled}) AS c"))
    session.execute(sql("SET LOCAL parallel_setup_cost TO DEFAULT"))
    session.execute(sql("SET LOCAL parallel_tuple_cost TO DEFAULT"))
    cursor = session.connection().connection.driver_connection.cursor()
    sizes = {s: (n, h) for s, n, h in session.execute(sql(
        "SELECT stratum, COUNT(*), COUNT(*) FILTER (WHERE high_risk) FROM draw_candidates GROUP BY stratum"))}
    if set(sizes) - set(STRATA):
        raise ValueError(f"unknown strata {sorted(set(sizes) - set(STRATA))}")
    total = sum(n for n, _ in sizes.values())
    counts, needed, takes = algorithm.stratum_takes(plan, sizes)
    wanted = {s: fill + extra for s, (fill, extra) in takes.items()}
    bounds = {s: prefilter_bound(wanted[s], n - h, margin) for s, (n, h) in sizes.items()}

    def read(strata: dict[str, str | None]) -> list:
        """Rows (key, id, candidate) of these strata under their bounds, in (key, id) order."""
        values = ", ".join(f"('{s}', {'NULL' if b is None else repr(b)})" for s, b in strata.items())
        cursor.execute(
            "SELECT d.key, d.id, d.stratum, d.grid_id, d.jurisdiction_id, d.high_risk FROM draw_candidates d "
            f"JOIN (VALUES {values}) AS t(s, bound) ON t.s = d.stratum "
            "WHERE d.high_risk OR t.bound IS NULL OR d.key < t.bound ORDER BY d.key, d.id")
        return [(key, i, Candidate(i, s, grid, j, high)) for key, i, s, grid, j, high in cursor.fetchall()]

    rows = read(bounds) if bounds else []
    others = dict.fromkeys(bounds, 0)
    for _, _, c in rows:
        if not c.high_risk:
            others[c.stratum] += 1
    short = {s for s, b in bounds.items() if b is not None and others[s] < wanted[s]}
    if short:  # a bound let too few through: read those strata whole
        rows = read({s: None if s in short else b for s, b in bounds.items()})
    return DrawnRows(total, counts, needed, takes, rows, Future())


def start_candidate_text(session: Session, drawn: DrawnRows) -> None:
    """Let the server build the candidate list while the caller computes: one `string_agg`
    value sorted by id, one round trip, on a thread of its own (psycopg waits for the server
    without holding the GIL). The session must not be used until `drawn.candidate_text()`."""
    from supervision.sampling import algorithm

    connection = session.connection().connection.driver_connection

    def build() -> None:
        try:
            with connection.cursor() as cursor:
                body = cursor.execute(
                    "SELECT string_agg(CAST(id AS TEXT) || ',' || stratum || ',' || COALESCE(CAST(grid_id AS TEXT), '') "
                    "|| ',' || CAST(jurisdiction_id AS TEXT) || ',' || CAST(CAST(high_risk AS INTEGER) AS TEXT), "
                    "E'\\n' ORDER BY id) FROM draw_candidates").fetchone()[0]
            drawn._text.set_result(algorithm.CANDIDATE_HEADER + "\n" + (body + "\n" if body else ""))
        except BaseException as error:  # handed to the caller by candidate_text()
            drawn._text.set_exception(error)

    threading.Thread(target=build, name="draw-candidate-text", daemon=True).start()
