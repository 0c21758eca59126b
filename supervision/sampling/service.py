"""Running a draw in two units of work, and checking one afterwards.

1. `seed_draw` fixes the seed — SHA-256 of the audit chain's head hash and the resolved plan's
   digest — and records it (`draw.seed`) before a single candidate is read; the interface
   commits, so the seed is in the chain first.
2. `perform_draw` reads the candidates and the inspector directory, runs the pure algorithm,
   stores inputs and result, creates the `random` tasks of the drawn pairs and records
   `draw.run` with the digests of what it read and drew.

`verify` re-runs the algorithm on what was stored and compares it, the digests and the seed
with the chain; `export` writes everything an outside party needs to do the same.
"""
from __future__ import annotations

import gc
import gzip
import hashlib
import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from supervision import audit
from supervision.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from supervision.credit.policies import Policies
from supervision.errors import Conflict, NotFound
from supervision.inspections import tasks
from supervision.jsonutil import canonical_json
from supervision.modelbase import utcnow
from supervision.policy import jurisdiction_chain
from supervision.registry.models import Establishment, Inspector, Jurisdiction
from supervision.sampling import algorithm, candidates as reading
from supervision.sampling.models import Draw, DrawTarget, TaskInspector
from supervision.sampling.plan import KIND, STRATA, Plan, PlanInvalid, parse_partial, resolve

SEED_ACTION, RUN_ACTION = "draw.seed", "draw.run"


@contextmanager
def cycle_collection_paused():
    """A draw allocates millions of small objects without cycles (rows, keys, targets, lines)
    and keeps most of them alive to the end; Python's cyclic collector would rescan them again
    and again as they pile up (building 318,000 candidate rows took three times as long with it
    running). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_seed(chain_hash: str, plan_sha256: str) -> str:
    return sha256_text(f"{chain_hash}:{plan_sha256}")


def load_plan(session: Session, text: str, policies: Policies | None = None) -> tuple[Plan, str]:
    """Parse a plan and fill what it leaves out from the `sampling` policy of its first
    jurisdiction on the period's first day. Returns the plan and the policy's version."""
    partial = parse_partial(text)
    first = partial["jurisdictions"][0]
    jurisdiction = session.execute(select(Jurisdiction).where(Jurisdiction.code == first)).scalar_one_or_none()
    if jurisdiction is None:
        raise PlanInvalid(f"抽查计划无效：[scope.jurisdictions] 辖区“{first}”不存在",
                          fields={"scope.jurisdictions": [f"辖区“{first}”不存在"]})
    policies = policies or Policies.current(session)
    document = policies.set(KIND).resolve(jurisdiction_chain(jurisdiction), partial["period_start"])
    return resolve(partial, document.value), document.version


def get_draw(session: Session, draw_id: int) -> Draw:
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound("抽查不存在", fields={"draw_id": ["抽查不存在"]})
    return draw


def plan_of(draw: Draw) -> Plan:
    return Plan.from_dict(draw.summary["plan"])


def seed_draw(session: Session, actor: audit.Actor, plan_text: str, *, policies: Policies | None = None) -> Draw:
    """Step one: validate the plan and its scope, fix and record the seed. Reads no candidate."""
    plan, policy_version = load_plan(session, plan_text, policies)
    reading.resolve_scope(session, plan)  # refuse a bad scope before anything is recorded
    chain_hash = session.execute(select(AuditHead.last_hash).where(AuditHead.id == 1)).scalar_one()
    digest = plan.digest()
    draw = Draw(plan_code=plan.code, plan_text=plan_text, plan_sha256=digest, period_start=plan.period_start,
                period_end=plan.period_end, chain_hash=chain_hash, seed=make_seed(chain_hash, digest),
                status="seeded", created_by=actor.ref,
                summary={"plan": plan.as_dict(), "policy": policy_version})
    session.add(draw)
    audit.record(session, actor, SEED_ACTION, draw)
    return draw


@dataclass
class Inputs:
    candidates: list[algorithm.Candidate] | None
    inspectors: list[algorithm.InspectorRow]
    conflicts: set
    last_pairs: dict
    candidate_text: str | None = None  # given instead of `candidates` by the PostgreSQL path
    candidate_count: int = 0


def _pack(inputs: Inputs) -> tuple[bytes, str, str, str]:
    """The stored form: gzipped JSON of the candidate text and the pairing inputs, with digests."""
    text = inputs.candidate_text if inputs.candidate_text is not None else algorithm.candidates_text(inputs.candidates)
    pairing = canonical_json(algorithm.pairing_inputs(inputs.inspectors, inputs.conflicts, inputs.last_pairs))
    blob = gzip.compress(json.dumps({"candidates": text, "pairing": pairing}, ensure_ascii=False).encode("utf-8"),
                         compresslevel=1, mtime=0)
    return blob, text, sha256_text(text), sha256_text(pairing)


def _digests(inputs: Inputs, outcome: algorithm.Outcome) -> tuple[bytes, str, str, str]:
    """The stored inputs and the three digests of `draw.run`: (blob, candidates, pairing, result)."""
    blob, _, candidate_sha, pairing_sha = _pack(inputs)
    return blob, candidate_sha, pairing_sha, sha256_text(algorithm.result_text(outcome.targets))


def unpack(draw: Draw) -> tuple[str, str]:
    data = json.loads(gzip.decompress(draw.candidates_blob).decode("utf-8"))
    return data["candidates"], data["pairing"]


def _pairing_inputs(session: Session, scope, outcome: algorithm.Outcome, candidates, **extra) -> Inputs:
    target_ids = [t.id for t in outcome.targets]
    return Inputs(candidates, reading.read_inspectors(session, scope), reading.read_conflicts(session, scope, target_ids),
                  reading.read_last_pairs(session, scope, target_ids), **extra)


def compute(session: Session, draw: Draw) -> tuple[algorithm.Outcome, Inputs]:
    """Read the inputs and run the algorithm; writes nothing (what the bench times).

    On PostgreSQL the server computes the sort keys and counts the strata, Python sees only
    the rows it can draw (`candidates.read_drawn_postgresql`), and the server builds the
    candidate list while Python pairs; elsewhere every candidate is read and
    `algorithm.select_targets` runs. Both give the same targets (`verify` re-runs the Python
    path on the stored list)."""
    with cycle_collection_paused():
        return _compute(session, draw)


def _compute(session: Session, draw: Draw) -> tuple[algorithm.Outcome, Inputs]:
    plan = plan_of(draw)
    scope = reading.resolve_scope(session, plan)
    if session.get_bind().dialect.name == "postgresql":
        rows = reading.read_drawn_postgresql(session, plan, scope, draw.id, draw.seed)
        outcome = algorithm.take_in_key_order(rows.rows, rows.takes, rows.counts, rows.total, rows.needed)
        drawn = {c.id: c for _, _, c in rows.rows}
        inputs = _pairing_inputs(session, scope, outcome, None, candidate_count=rows.total)
        reading.start_candidate_text(session, rows)  # the server builds it while Python pairs
        try:
            algorithm.pair_inspectors(plan, draw.seed, outcome, drawn, inputs.inspectors, inputs.conflicts,
                                      inputs.last_pairs)
        finally:
            inputs.candidate_text = rows.candidate_text()
    else:
        candidates = reading.read_candidates(session, plan, scope, draw.id)
        outcome = algorithm.select_targets(plan, draw.seed, candidates)
        inputs = _pairing_inputs(session, scope, outcome, candidates, candidate_count=len(candidates))
        algorithm.pair_inspectors(plan, draw.seed, outcome, {c.id: c for c in candidates}, inputs.inspectors,
                                  inputs.conflicts, inputs.last_pairs)
    return outcome, inputs


def _summary(plan: Plan, outcome: algorithm.Outcome) -> dict:
    strata = {}
    for s in STRATA:
        c = outcome.strata[s]
        strata[s] = {**asdict(c), "ratio": plan.ratios[s],
                     "coverage": round(c.drawn / c.candidates, 4) if c.candidates else None}
    drawn = len(outcome.targets)
    return {"candidates": outcome.candidates, "drawn": drawn, "floor_needed": outcome.floor_needed,
            "coverage": round(drawn / outcome.candidates, 4) if outcome.candidates else None,
            "strata": strata, "pairing": outcome.pairing}


def perform_draw(session: Session, actor: audit.Actor, draw_id: int, *, create_tasks: bool = True) -> Draw:
    """Step two: read, draw, pair, store, and give the drawn pairs their tasks."""
    draw = get_draw(session, draw_id)
    if draw.status != "seeded":
        raise Conflict("该抽查已完成，不能重复抽取")
    if session.execute(select(AuditEntry.seq).where(AuditEntry.entity_type == "draws", AuditEntry.entity_id == str(draw.id),
                                                    AuditEntry.action == SEED_ACTION)).first() is None:
        raise Conflict("抽查种子尚未提交到审计链，不能抽取")
    plan = plan_of(draw)
    with cycle_collection_paused():
        outcome, inputs = compute(session, draw)
        blob, candidate_sha, pairing_sha, result_sha = _store_targets(
            session, draw.id, outcome.targets, meanwhile=lambda: _digests(inputs, outcome))
    summary = _summary(plan, outcome)
    draw.candidates_blob, draw.candidate_count, draw.candidate_sha256 = blob, inputs.candidate_count, candidate_sha
    draw.result_sha256, draw.status, draw.drawn_at = result_sha, "drawn", utcnow()
    draw.summary = {**draw.summary, **summary, "pairing_sha256": pairing_sha}
    audit.record(session, actor, RUN_ACTION, entity_type="draws", entity_id=str(draw.id), after={
        "plan_code": draw.plan_code, "plan_sha256": draw.plan_sha256, "seed": draw.seed,
        "candidate_count": draw.candidate_count, "candidate_sha256": candidate_sha, "pairing_sha256": pairing_sha,
        "result_sha256": result_sha, "drawn": summary["drawn"],
        "strata": {s: summary["strata"][s]["drawn"] for s in STRATA}})
    if create_tasks:
        create_random_tasks(session, actor, draw, plan)
    return draw


_TARGET_COLUMNS = ("draw_id", "establishment_id", "stratum", "reason", "position", "inspector_ids", "no_pair_reason")


def _store_targets(session: Session, draw_id: int, targets: list[algorithm.Target], meanwhile=None):
    """Every target row: COPY on PostgreSQL (a draw may have hundreds of thousands), one
    multi-row INSERT per batch elsewhere. `meanwhile()`, if given, runs while the server writes
    the rows (and its value is returned)."""
    if session.get_bind().dialect.name != "postgresql":
        rows = [dict(zip(_TARGET_COLUMNS, (draw_id, t.id, t.stratum, t.reason, t.position, list(t.inspector_ids),
                                           t.no_pair_reason))) for t in targets]
        for n in range(0, len(rows), 10000):
            session.execute(insert(DrawTarget.__table__), rows[n:n + 10000])
        return meanwhile() if meanwhile else None

    from psycopg.copy import QueuedLibpqWriter

    # COPY's text format: tab-separated, \N for NULL, backslash, tab and line breaks escaped in
    # the one free-text field. The tail of a line (inspectors, reason) repeats across targets:
    # each distinct one is formatted once.
    def tail(ids: tuple[int, ...], why: str | None) -> str:
        free = "\\N" if why is None else why.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return f"[{', '.join(map(str, ids))}]\t{free}\n"

    tails: dict = {}

    def line(t: algorithm.Target) -> str:
        end = tails.get((t.inspector_ids, t.no_pair_reason))
        if end is None:
            end = tails[(t.inspector_ids, t.no_pair_reason)] = tail(t.inspector_ids, t.no_pair_reason)
        return f"{draw_id}\t{t.id}\t{t.stratum}\t{t.reason}\t{t.position}\t{end}"

    # In key order (draw, establishment): every index insert then appends at the right edge.
    ordered = sorted(targets, key=lambda t: t.id)
    cursor = session.connection().connection.driver_connection.cursor()
    copy_sql = f"COPY draw_targets ({', '.join(_TARGET_COLUMNS)}) FROM STDIN"
    # The queued writer sends each block from psycopg's own thread, so formatting the next block
    # and then `meanwhile()` run while the server writes the rows; leaving the block waits for it.
    with cursor.copy(copy_sql, writer=QueuedLibpqWriter(cursor)) as copy:
        for n in range(0, len(ordered), 20000):
            copy.write("".join([line(t) for t in ordered[n:n + 20000]]))
        return meanwhile() if meanwhile else None


def _recorded(session: Session, draw_id: int) -> list[algorithm.Target]:
    """The stored targets, as plain rows (no ORM objects: there may be hundreds of thousands)."""
    t = DrawTarget.__table__.c
    return [algorithm.Target(eid, stratum, reason, position, tuple(ids or ()), why)
            for eid, stratum, reason, position, ids, why in session.execute(
                select(t.establishment_id, t.stratum, t.reason, t.position, t.inspector_ids, t.no_pair_reason)
                .where(t.draw_id == draw_id))]


def create_random_tasks(session: Session, actor: audit.Actor, draw: Draw, plan: Plan) -> None:
    """A `random` task for each paired target, in draw order, assigned to its inspectors; each
    task is recorded in the chain, which is how it reaches the devices' next sync. Set-based: a
    draw may pair hundreds of thousands of targets."""
    t = DrawTarget.__table__.c
    paired = [(eid, grid, ids) for eid, grid, ids in session.execute(
        select(t.establishment_id, Establishment.grid_id, t.inspector_ids)
        .join(Establishment, Establishment.id == t.establishment_id)
        .where(t.draw_id == draw.id).order_by(t.position)) if ids]
    if not paired:
        return
    badges = dict(session.execute(select(Inspector.id, Inspector.badge_no)).all())
    heading = f"双随机抽查：{plan.title}（计划 {plan.code}，第 {draw.id} 次抽取）；检查人员："
    task_ids = tasks.create_tasks(session, actor, [
        tasks.NewTask(eid, grid, "random", plan.period_end, heading + "、".join(badges[i] for i in ids))
        for eid, grid, ids in paired])
    session.execute(insert(TaskInspector.__table__), [{"task_id": task_id, "inspector_id": i}
                                                      for task_id, (_, _, ids) in zip(task_ids, paired) for i in ids])
    links = [(eid, task_id) for task_id, (eid, _, _) in zip(task_ids, paired)]
    if session.get_bind().dialect.name == "postgresql":
        # One statement: a few hundred thousand single-row UPDATEs would cost a round trip each.
        session.execute(sql(
            "UPDATE draw_targets AS d SET task_id = v.task_id "
            "FROM unnest(CAST(:eids AS integer[]), CAST(:tids AS integer[])) AS v(establishment_id, task_id) "
            "WHERE d.draw_id = :draw AND d.establishment_id = v.establishment_id"),
            {"eids": [e for e, _ in links], "tids": [i for _, i in links], "draw": draw.id})
    else:
        session.execute(update(DrawTarget.__table__).where(t.draw_id == draw.id, t.establishment_id == bindparam("eid"))
                        .values(task_id=bindparam("tid")), [{"eid": e, "tid": i} for e, i in links])


def list_draws(session: Session) -> list[Draw]:
    return list(session.execute(select(Draw).order_by(Draw.id)).scalars())


# --- verification -------------------------------------------------------------------------------

def _entry(session: Session, draw: Draw, action: str) -> tuple[AuditEntry | None, dict]:
    entry = session.execute(select(AuditEntry).where(AuditEntry.entity_type == "draws",
                                                     AuditEntry.entity_id == str(draw.id),
                                                     AuditEntry.action == action)
                            .order_by(AuditEntry.seq)).scalars().first()
    return entry, (json.loads(entry.payload).get("after") or {}) if entry else {}


@dataclass
class Verification:
    draw_id: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, draw_id: int) -> Verification:
    """Re-run the draw from what was stored and compare everything with the chain and the
    stored result. Each problem names what changed: the seed, the plan, a candidate, a target
    or a pair."""
    with cycle_collection_paused():
        return _verify(session, draw_id)


def _verify(session: Session, draw_id: int) -> Verification:
    draw = get_draw(session, draw_id)
    report = Verification(draw.id)
    say = report.problems.append
    if draw.status != "drawn":
        say("该抽查尚未抽取")
        return report
    seed_entry, seeded = _entry(session, draw, SEED_ACTION)
    run_entry, ran = _entry(session, draw, RUN_ACTION)
    if seed_entry is None or run_entry is None:
        say("审计链中缺少该抽查的种子或抽取记录")
        return report
    # The seed: as published before the candidates were read, and as derived.
    if draw.seed != seeded.get("seed"):
        say(f"种子已被改动：记录为 {draw.seed}，审计链中发布的为 {seeded.get('seed')}")
    if seeded.get("seed") != make_seed(seeded.get("chain_hash", ""), seeded.get("plan_sha256", "")):
        say("审计链中的种子与其来源（链头哈希和计划摘要）不符")
    chain_hash = seeded.get("chain_hash")
    if chain_hash != GENESIS_HASH and session.execute(select(AuditEntry.seq).where(
            AuditEntry.hash == chain_hash, AuditEntry.seq < seed_entry.seq)).first() is None:
        say("种子所依据的链头哈希不在审计链中该抽查之前")
    # The plan.
    plan = plan_of(draw)
    if plan.digest() != draw.plan_sha256 or draw.plan_sha256 != seeded.get("plan_sha256"):
        say("抽查计划已被改动：计划摘要与审计链中发布的不符")
    # The candidates and pairing inputs.
    text, pairing = unpack(draw)
    stored = algorithm.parse_candidates(text)
    by_id = {c.id: c for c in stored}
    if sha256_text(text) != ran.get("candidate_sha256") or draw.candidate_sha256 != ran.get("candidate_sha256"):
        say(f"候选名单已被改动：摘要 {sha256_text(text)} 与审计链中记录的 {ran.get('candidate_sha256')} 不符"
            f"（记录 {ran.get('candidate_count')} 个，现有 {len(stored)} 个）")
    if sha256_text(pairing) != ran.get("pairing_sha256"):
        say("检查人员名录、利益冲突或上次检查人员的记录已被改动：摘要与审计链中记录的不符")
    inspectors, conflicts, last_pairs = algorithm.parse_pairing_inputs(json.loads(pairing))
    expected = algorithm.draw(plan, seeded.get("seed", draw.seed), stored, inspectors, conflicts, last_pairs)
    recorded = {t.id: t for t in _recorded(session, draw.id)}
    # Candidates named: a recorded target that the stored list no longer holds, or holds
    # with another stratum.
    for eid, t in sorted(recorded.items()):
        c = by_id.get(eid)
        if c is None:
            say(f"候选单位 {eid} 已从候选名单中删除（该单位是已记录的抽中对象）")
        elif c.stratum != t.stratum:
            say(f"候选单位 {eid} 的信用等级分层被改动：候选名单为 {c.stratum}，抽取时为 {t.stratum}")
    wanted = {t.id: t for t in expected.targets}
    for eid in sorted(set(wanted) - set(recorded)):
        say(f"抽中对象被改动：单位 {eid} 按算法应被抽中，但记录中没有")
    for eid in sorted(set(recorded) - set(wanted)):
        say(f"抽中对象被改动：单位 {eid} 在记录中，但按算法不应被抽中")
    for eid in sorted(set(recorded) & set(wanted)):
        got, want = recorded[eid], wanted[eid]
        if got.inspector_ids != want.inspector_ids:
            say(f"检查人员组合被改动：单位 {eid} 记录为 {list(got.inspector_ids)}，按算法应为 {list(want.inspector_ids)}")
        if (got.reason, got.position) != (want.reason, want.position):
            say(f"抽中对象被改动：单位 {eid} 的抽中原因或顺序与算法结果不符")
    stored_result = algorithm.result_text(list(recorded.values()))
    if sha256_text(stored_result) != ran.get("result_sha256"):
        say("抽取结果摘要与审计链中记录的不符")
    return report


# --- export -------------------------------------------------------------------------------------

EXPORT_README = """双随机抽查结果核验材料（第 {id} 次抽取，计划 {code}）

plan.toml       提交的抽查计划原文
plan.json       补全默认值后的计划；其规范 JSON 的 SHA-256 即 plan_sha256
seed.json       种子、链头哈希、计划摘要；seed = SHA-256("<chain_hash>:<plan_sha256>")
candidates.csv  候选名单（按单位 id 排序）；其 SHA-256 即 candidate_sha256
pairing.json    检查人员名录、利益冲突、上次检查人员；其 SHA-256 即 pairing_sha256
result.csv      抽取结果（按抽取顺序）；其 SHA-256 即 result_sha256
算法说明见项目文档 docs/draws.md。
"""


def export(session: Session, draw_id: int, out: Path) -> list[Path]:
    """Write the files of the draw into directory `out` (created if need be)."""
    draw = get_draw(session, draw_id)
    if draw.status != "drawn":
        raise Conflict("该抽查尚未抽取")
    text, pairing = unpack(draw)
    targets = _recorded(session, draw.id)
    _, ran = _entry(session, draw, RUN_ACTION)
    seed_entry, _ = _entry(session, draw, SEED_ACTION)
    files = {
        "plan.toml": draw.plan_text,
        "plan.json": canonical_json(draw.summary["plan"]),
        "seed.json": canonical_json({"draw_id": draw.id, "seed": draw.seed, "chain_hash": draw.chain_hash,
                                     "plan_sha256": draw.plan_sha256,
                                     "audit_seq": seed_entry.seq if seed_entry else None,
                                     "recorded": ran}),
        "candidates.csv": text,
        "pairing.json": pairing,
        "result.csv": algorithm.result_text(targets),
        "README.txt": EXPORT_README.format(id=draw.id, code=draw.plan_code),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = out / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
