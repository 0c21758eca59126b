"""Double-random draws: plans, strata and rounding, high risk, the coverage floor, inspector
pairing, verification and tamper detection, an independent re-implementation, tasks in sync."""
import csv
import hashlib
import io
import json
from datetime import date
from fractions import Fraction
from math import ceil, floor

import pytest
from sqlalchemy import select, update

from supervision.credit.grading.current import current_grades
from supervision.extensions import db
from supervision.registry.models import Establishment
from supervision.sampling import algorithm, candidates as reading
from supervision.sampling.models import Draw, DrawTarget, TaskInspector
from supervision.sampling.plan import Plan
from tests import credit_factory, draw_world as w, factories
from tests.conftest import TEST_DATABASE_URL


def run(runner, tmp_path, text, ok=True):
    path = tmp_path / f"plan{len(list(tmp_path.glob('plan*.toml')))}.toml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["draw", "run", str(path), "--json"])
    if not ok:
        assert result.exit_code == 1, result.output
        return result.output
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def targets(draw_id):
    return list(db.session.execute(select(DrawTarget).where(DrawTarget.draw_id == draw_id)
                                   .order_by(DrawTarget.position)).scalars())


@pytest.fixture
def district(app):
    w.checklist()
    return factories.jurisdiction()


def graded_population(district, counts: dict):
    """A grid with `counts[stratum]` establishments in each stratum, and two inspectors."""
    grid = w.grid = factories.grid(district)
    grades = {}
    population = {}
    for stratum, n in counts.items():
        made = w.establishments(grid, n)
        population[stratum] = made
        if stratum != "ungraded":
            grades.update({e: stratum for e in made})
    w.publish_grades(grades)
    w.inspector(district, [grid]), w.inspector(district, [grid])
    return grid, population


# --- plans --------------------------------------------------------------------------------------

def test_the_example_plan_is_valid_and_runs(runner, district, tmp_path):
    grid, _ = graded_population(district, {"C": 2})
    example = runner.invoke(args=["draw", "example-plan"]).output
    report = run(runner, tmp_path, example.replace('"accommodation"        #', '"test_accommodation" #'))
    assert report["strata"]["C"]["drawn"] == 1 and report["candidates"] == 2


@pytest.mark.parametrize("change, key", [
    ({"ratios": {"F": 5}}, "ratios.F"),
    ({"ratios": {"A": 120}}, "ratios.A"),
    ({"inspectors_per_target": 1}, "inspectors_per_target"),
    ({"inspector_fallback": "city"}, "inspector_fallback"),
])
def test_a_bad_plan_is_refused_naming_the_key_and_reason(runner, district, tmp_path, change, key):
    output = run(runner, tmp_path, w.plan(**change), ok=False)
    assert key in output
    assert db.session.execute(select(Draw)).first() is None


def test_an_unknown_scope_is_refused_before_anything_is_recorded(runner, district, tmp_path):
    output = run(runner, tmp_path, w.plan(jurisdictions=("320102", "999999")), ok=False)
    assert "scope.jurisdictions" in output and "999999" in output
    assert db.session.execute(select(Draw)).first() is None


# --- targets ------------------------------------------------------------------------------------

def test_each_stratum_is_sampled_at_its_ratio_rounded_up(runner, district, tmp_path):
    graded_population(district, {"A": 21, "B": 10, "C": 3, "D": 1, "E": 2, "ungraded": 2})
    report = run(runner, tmp_path, w.plan(min_coverage=0))
    drawn = {s: r["drawn"] for s, r in report["strata"].items()}
    # ceil(21 × 5 %) = 2, ceil(10 × 20 %) = 2, ceil(3 × 50 %) = 2, D and E all, ceil(2 × 20 %) = 1
    assert drawn == {"A": 2, "B": 2, "C": 2, "D": 1, "E": 2, "ungraded": 1}
    assert report["drawn"] == 10 and report["candidates"] == 39


def test_the_rounding_rule():
    assert algorithm.quota(20, Fraction(5, 100)) == 1  # exactly 1
    assert algorithm.quota(21, Fraction(5, 100)) == 2  # 1.05 rounds up
    assert algorithm.quota(1, Fraction(1, 1000)) == 1  # a non-empty stratum with a ratio gives one
    assert algorithm.quota(7, Fraction(0)) == 0 and algorithm.quota(0, Fraction(1)) == 0


def test_a_plan_ratio_overrides_the_policy_default(runner, district, tmp_path):
    graded_population(district, {"A": 10})
    assert run(runner, tmp_path, w.plan(min_coverage=0, ratios={"A": 50}))["strata"]["A"]["drawn"] == 5


def test_high_risk_establishments_are_always_drawn(runner, client, field, tmp_path):
    w.checklist_done = True
    grid = field.establishment.grid
    complained, *others = w.establishments(grid, 30)
    w.publish_grades({e: "A" for e in [complained, *others, field.establishment]})
    credit_factory.record(complained.subject_id, "adverse", code="complaint_substantiated", severity="minor",
                          arose_on=date(2026, 10, 1))
    order = client.post("/api/v1/inspections", json=field.submission(
        answers=[{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "pass"},
                 {"item_code": "T03", "number": 0.05}]), headers=field.headers).get_json()["rectification_order"]
    assert order["deadline"] == "2026-11-27"
    report = run(runner, tmp_path, w.plan(min_coverage=0, ratios={"A": 0, "ungraded": 0}))
    drawn = {t.establishment_id: t.reason for t in targets(report["draw_id"])}
    assert drawn == {complained.id: "high_risk", field.establishment.id: "high_risk"}
    assert report["strata"]["A"]["high_risk"] == 2


def test_an_early_warning_establishment_is_always_drawn(runner, district, tmp_path):
    grid, population = graded_population(district, {"A": 20})
    warned = population["A"][7]
    for arose_on in (date(2026, 9, 1), date(2026, 10, 1)):  # two failed inspections in 12 months
        credit_factory.record(warned.subject_id, "inspection", severity="general", arose_on=arose_on)
    report = run(runner, tmp_path, w.plan(min_coverage=0, ratios={"A": 0, "ungraded": 0}))
    assert {t.establishment_id: t.reason for t in targets(report["draw_id"])} == {warned.id: "high_risk"}
    assert reading.high_risk_subjects(db.session, [district.id], w.PERIOD[0]) == {warned.id: ["early_warning"]}


def test_the_stored_candidate_list_is_the_one_read_row_by_row(runner, district, tmp_path):
    """PostgreSQL builds the list in the server; it must be the text of `candidates_text`."""
    from supervision.sampling import service

    grid, population = graded_population(district, {"A": 3, "ungraded": 2})
    loose = factories.establishment(name="未划网格单位")
    credit_factory.record(loose.subject_id, "adverse", code="complaint_substantiated", severity="minor",
                          arose_on=date(2026, 10, 1))
    draw = db.session.get(Draw, run(runner, tmp_path, w.plan())["draw_id"])
    plan = service.plan_of(draw)
    text, _ = service.unpack(draw)
    assert text == algorithm.candidates_text(reading.read_candidates(
        db.session, plan, reading.resolve_scope(db.session, plan), draw.id))
    assert f"\n{loose.id},ungraded,,{loose.jurisdiction_id},1\n" in text and draw.candidate_count == 6


def test_the_prefilter_bound_leaves_room_above_the_expected_share_of_keys():
    assert reading.prefilter_bound(50, 50) is None and reading.prefilter_bound(60, 50) is None
    assert reading.prefilter_bound(0, 50) == "0" * 16
    assert reading.prefilter_bound(10, 120) is None  # 10 + 6 × √10 + 100 keys: more than there are
    bound = int(reading.prefilter_bound(10_000, 1_000_000), 16) / 16 ** 16
    assert bound == pytest.approx((10_000 + 600 + 100) / 1_000_000)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="the server-side draw runs on PostgreSQL only")
@pytest.mark.parametrize("margin", [(3.0, 2), (0.0, 0), (-3.0, 0)], ids=["bound-holds", "borderline", "bound-too-low"])
def test_the_server_side_draw_takes_what_the_pure_algorithm_takes_whatever_the_prefilter_lets_through(district, margin):
    """The prefilter only spares sorting: a bound that lets too few keys through makes the
    server read the stratum whole, and the targets are those of `algorithm.select_targets`."""
    graded_population(district, {"A": 150, "B": 120, "C": 60, "ungraded": 40})
    plan = Plan.from_dict(json.loads(json.dumps({**_plan_dict(), "min_coverage": "30"})))
    scope = reading.resolve_scope(db.session, plan)
    seed = hashlib.sha256(b"prefilter").hexdigest()
    pure = algorithm.select_targets(plan, seed, reading.read_candidates(db.session, plan, scope, 0))
    rows = reading.read_drawn_postgresql(db.session, plan, scope, 0, seed, margin=margin)
    served = algorithm.take_in_key_order(rows.rows, rows.takes, rows.counts, rows.total, rows.needed)
    assert served.targets == pure.targets and served.keys == pure.keys
    assert sum(1 for t in pure.targets if t.reason == "floor") > 0
    reading.start_candidate_text(db.session, rows)
    assert rows.candidate_text() == algorithm.candidates_text(reading.read_candidates(db.session, plan, scope, 0))
    db.session.rollback()


def test_the_coverage_floor_raises_sampling_in_proportion_to_what_each_stratum_has_left(runner, district, tmp_path):
    graded_population(district, {"A": 60, "B": 40})
    report = run(runner, tmp_path, w.plan(min_coverage=20, ratios={"A": 0, "B": 0}))
    assert report["floor_needed"] == 20
    assert (report["strata"]["A"]["floor_extra"], report["strata"]["B"]["floor_extra"]) == (12, 8)
    assert report["drawn"] == 20


def test_the_floor_spread_uses_largest_remainders():
    assert algorithm.spread(5, {"A": 1, "B": 1, "C": 1, "D": 0, "E": 0, "ungraded": 0}) == \
        {"A": 1, "B": 1, "C": 1, "D": 0, "E": 0, "ungraded": 0}
    assert algorithm.spread(2, {"A": 3, "B": 3, "C": 3, "D": 0, "E": 0, "ungraded": 0}) == \
        {"A": 1, "B": 1, "C": 0, "D": 0, "E": 0, "ungraded": 0}


def test_closed_and_already_drawn_establishments_are_excluded(runner, district, tmp_path):
    grid, pop = graded_population(district, {"D": 4})
    closed = pop["D"][0]
    db.session.execute(update(Establishment).where(Establishment.id == closed.id).values(status="closed"))
    first = run(runner, tmp_path, w.plan(min_coverage=0, ratios={"D": 50}))
    assert first["candidates"] == 3 and first["drawn"] == 2
    second = run(runner, tmp_path, w.plan(min_coverage=0, ratios={"D": 100}))
    assert second["candidates"] == 1
    again = {t.establishment_id for t in targets(first["draw_id"])} & {t.establishment_id for t in targets(second["draw_id"])}
    assert again == set() and closed.id not in {t.establishment_id for t in targets(second["draw_id"])}


def test_grades_read_in_bulk_agree_with_current_grades(district):
    grid = factories.grid(district)
    a, b, c = w.establishments(grid, 3)
    w.publish_grades({a: "A", b: "B"}, year=2025)
    w.publish_grades({a: "C"}, year=2026)
    plan = Plan.from_dict(json.loads(json.dumps(_plan_dict())))
    scope = reading.resolve_scope(db.session, plan)
    read = {x.id: x.stratum for x in reading.read_candidates(db.session, plan, scope, 0)}
    expected = current_grades(db.session, [a.subject_id, b.subject_id, c.subject_id])
    assert read == {e.id: expected[e.subject_id].grade if e.subject_id in expected else "ungraded" for e in (a, b, c)}
    assert read[a.id] == "C"


def _plan_dict():
    return {"code": "P", "title": "t", "specialty": "s", "period": {"start": "2027-03-01", "end": "2027-06-30"},
            "scope": {"jurisdictions": ["320102"], "grids": [], "categories": []},
            "items": {"matters": ["m"], "checklist": "test_accommodation"},
            "ratios": {"A": "5", "B": "20", "C": "50", "D": "100", "E": "100", "ungraded": "20"},
            "min_coverage": "20", "inspectors_per_target": 2, "inspector_fallback": "district", "workload_tolerance": 1}


# --- inspectors ---------------------------------------------------------------------------------

def pairing_world(district, inspectors_in_grid=3, targets=1, **kwargs):
    grid = factories.grid(district)
    made = w.establishments(grid, targets)
    w.publish_grades({e: "D" for e in made})
    people = [w.inspector(district, [grid], **kwargs) for _ in range(inspectors_in_grid)]
    return grid, made, people


def test_inspectors_come_from_the_targets_grid_with_certificates_valid_all_period(runner, district, tmp_path):
    grid, [est], people = pairing_world(district, 2)
    w.inspector(district, [grid], valid_until=date(2027, 5, 31))  # expires during the period
    w.inspector(district, [factories.grid(district)])  # another grid
    report = run(runner, tmp_path, w.plan(inspector_fallback="none"))
    [target] = targets(report["draw_id"])
    assert sorted(target.inspector_ids) == sorted(p.id for p in people)


def test_the_district_is_the_fallback_when_the_grid_has_too_few(runner, district, tmp_path):
    grid, [est], [alone] = pairing_world(district, 1)
    elsewhere = w.inspector(district, [factories.grid(district)])
    report = run(runner, tmp_path, w.plan(inspector_fallback="district"))
    [target] = targets(report["draw_id"])
    assert target.inspector_ids == [alone.id, elsewhere.id]  # the grid's own inspector first


def test_no_valid_pair_is_reported_with_the_target_and_why(runner, district, tmp_path):
    grid, [est], _ = pairing_world(district, 1)
    path = tmp_path / "p.toml"
    path.write_text(w.plan(inspector_fallback="none"), encoding="utf-8")
    result = runner.invoke(args=["draw", "run", str(path)])
    assert result.exit_code == 0, result.output
    assert f"无有效组合：单位 {est.id}" in result.output and "可选检查人员不足 2 人" in result.output
    [target] = targets(db.session.execute(select(Draw.id)).scalar_one())
    assert target.inspector_ids == [] and target.task_id is None and "不允许跨网格" in target.no_pair_reason


def test_a_declared_conflict_of_interest_excludes_the_inspector(runner, district, tmp_path):
    grid, [est], people = pairing_world(district, 3)
    result = runner.invoke(args=["inspectors", "conflict", "add", people[0].badge_no, est.credit_code,
                                 "--reason", "检查人员的配偶在该单位任职"])
    assert result.exit_code == 0, result.output
    report = run(runner, tmp_path, w.plan(inspector_fallback="none"))
    [target] = targets(report["draw_id"])
    assert sorted(target.inspector_ids) == sorted([people[1].id, people[2].id])


def test_a_conflict_needs_a_reason_and_a_known_inspector(runner, district):
    grid, [est], people = pairing_world(district, 1)
    assert runner.invoke(args=["inspectors", "conflict", "add", "NOPE", est.credit_code, "--reason", "x"]).exit_code == 1
    assert runner.invoke(args=["inspectors", "conflict", "add", people[0].badge_no, est.credit_code,
                               "--reason", " "]).exit_code == 1


def _last_inspected_by(client, field, pair):
    body = field.submission(inspectors=[p.badge_no for p in pair])
    assert client.post("/api/v1/inspections", json=body, headers=field.headers).status_code in (200, 201, 202)


def test_the_exact_pair_of_the_last_inspection_is_not_drawn_again(runner, client, field, tmp_path):
    third = w.inspector(field.establishment.jurisdiction, [field.establishment.grid],
                        valid_from=date(2020, 1, 1), valid_until=date(2035, 1, 1))
    _last_inspected_by(client, field, [field.inspector, field.partner])
    w.publish_grades({field.establishment: "D"})
    report = run(runner, tmp_path, w.plan(inspector_fallback="none", grids=(field.establishment.grid.code,)))
    [target] = targets(report["draw_id"])
    assert set(target.inspector_ids) != {field.inspector.id, field.partner.id} and third.id in target.inspector_ids


def test_when_only_the_last_pair_is_left_there_is_no_valid_pair(runner, client, field, tmp_path):
    _last_inspected_by(client, field, [field.inspector, field.partner])
    w.publish_grades({field.establishment: "D"})
    report = run(runner, tmp_path, w.plan(inspector_fallback="none", grids=(field.establishment.grid.code,)))
    [target] = targets(report["draw_id"])
    assert target.inspector_ids == [] and "上次检查" in target.no_pair_reason
    assert report["pairing"]["targets_without_pair"] == 1


def test_workload_is_balanced_within_the_tolerance(runner, district, tmp_path):
    grid, made, people = pairing_world(district, 5, targets=12)
    report = run(runner, tmp_path, w.plan(inspector_fallback="none", workload_tolerance=1))
    loads = {p.id: 0 for p in people}
    for t in targets(report["draw_id"]):
        for i in t.inspector_ids:
            loads[i] += 1
    assert sum(loads.values()) == 24 and max(loads.values()) - min(loads.values()) <= 1
    assert report["pairing"]["balanced"] is True and report["pairing"]["largest_grid_spread"] <= 1


# --- verification -------------------------------------------------------------------------------

def drawn_world(runner, district, tmp_path):
    grid, pop = graded_population(district, {"A": 20, "B": 10, "C": 6, "D": 2, "ungraded": 3})
    w.inspector(district, [grid]), w.inspector(district, [grid])
    return run(runner, tmp_path, w.plan())


def verify(runner, draw_id):
    return runner.invoke(args=["draw", "verify", str(draw_id)])


def test_the_seed_is_in_the_chain_before_the_draw_and_derived_from_its_head(runner, district, tmp_path):
    from supervision.audit.models import AuditEntry

    report = drawn_world(runner, district, tmp_path)
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.entity_type == "draws")
                                 .order_by(AuditEntry.seq)).scalars().all()
    assert [e.action for e in entries] == ["draw.seed", "draw.run"]
    seeded = json.loads(entries[0].payload)["after"]
    assert seeded["seed"] == report["seed"]
    assert report["seed"] == hashlib.sha256(f"{seeded['chain_hash']}:{seeded['plan_sha256']}".encode()).hexdigest()
    assert entries[0].seq < entries[1].seq


def test_a_draw_verifies_and_is_reproducible(runner, district, tmp_path):
    report = drawn_world(runner, district, tmp_path)
    result = verify(runner, report["draw_id"])
    assert result.exit_code == 0 and "核验通过" in result.output
    draw = db.session.get(Draw, report["draw_id"])
    text, pairing = __import__("supervision.sampling.service", fromlist=["unpack"]).unpack(draw)
    again = algorithm.draw(Plan.from_dict(draw.summary["plan"]), draw.seed, algorithm.parse_candidates(text),
                           *algorithm.parse_pairing_inputs(json.loads(pairing)))
    assert [(t.id, t.inspector_ids) for t in again.targets] == \
        [(t.establishment_id, tuple(t.inspector_ids)) for t in targets(report["draw_id"])]


def test_a_changed_target_is_named(runner, district, tmp_path):
    report = drawn_world(runner, district, tmp_path)
    drawn = {t.establishment_id for t in targets(report["draw_id"])}
    outsider = db.session.execute(select(Establishment.id).where(Establishment.id.not_in(drawn))).scalars().first()
    first = targets(report["draw_id"])[0]
    original = first.establishment_id
    db.session.execute(update(DrawTarget).where(DrawTarget.draw_id == first.draw_id, DrawTarget.establishment_id == original)
                       .values(establishment_id=outsider))
    result = verify(runner, report["draw_id"])
    assert result.exit_code == 1
    assert f"单位 {original} 按算法应被抽中，但记录中没有" in result.output
    assert f"单位 {outsider} 在记录中，但按算法不应被抽中" in result.output


def test_a_changed_pair_is_named(runner, district, tmp_path):
    report = drawn_world(runner, district, tmp_path)
    first = targets(report["draw_id"])[0]
    db.session.execute(update(DrawTarget).where(DrawTarget.draw_id == first.draw_id,
                                            DrawTarget.establishment_id == first.establishment_id)
                       .values(inspector_ids=list(reversed(first.inspector_ids))))
    db.session.expire_all()
    result = verify(runner, report["draw_id"])
    assert result.exit_code == 1 and f"检查人员组合被改动：单位 {first.establishment_id}" in result.output


def test_a_changed_candidate_is_named(runner, district, tmp_path):
    import gzip

    report = drawn_world(runner, district, tmp_path)
    draw = db.session.get(Draw, report["draw_id"])
    data = json.loads(gzip.decompress(draw.candidates_blob))
    first = targets(report["draw_id"])[0]
    lines = data["candidates"].splitlines()
    lines = [line if not line.startswith(f"{first.establishment_id},") else
             line.replace(f",{first.stratum},", ",E,") for line in lines]
    data["candidates"] = "\n".join(lines) + "\n"
    db.session.execute(update(Draw).where(Draw.id == draw.id).values(
        candidates_blob=gzip.compress(json.dumps(data).encode())))
    result = verify(runner, report["draw_id"])
    assert result.exit_code == 1 and "候选名单已被改动" in result.output
    assert f"候选单位 {first.establishment_id} 的信用等级分层被改动" in result.output


def test_a_changed_seed_is_named(runner, district, tmp_path):
    report = drawn_world(runner, district, tmp_path)
    db.session.execute(update(Draw).where(Draw.id == report["draw_id"]).values(seed="0" * 64))
    result = verify(runner, report["draw_id"])
    assert result.exit_code == 1 and "种子已被改动" in result.output


# --- an independent re-implementation from docs/draws.md and the export --------------------------

def independent_draw(folder):
    """Written from docs/draws.md alone: reads the exported files, returns (id, inspector ids) in
    draw order."""
    plan = json.loads((folder / "plan.json").read_text())
    seed = json.loads((folder / "seed.json").read_text())["seed"]
    rows = list(csv.DictReader(io.StringIO((folder / "candidates.csv").read_text())))
    pairing = json.loads((folder / "pairing.json").read_text())
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    order = ["A", "B", "C", "D", "E", "ungraded"]
    picked, left = [], {}
    for s in order:
        members = sorted((r for r in rows if r["stratum"] == s), key=lambda r: (h(f"{seed}:{r['establishment_id']}"),
                                                                               int(r["establishment_id"])))
        want = ceil(len(members) * Fraction(plan["ratios"][s]) / 100)
        risky = [r for r in members if r["high_risk"] == "1"]
        plain = [r for r in members if r["high_risk"] == "0"]
        take = max(0, want - len(risky))
        picked += risky + plain[:take]
        left[s] = plain[take:]
    need = ceil(len(rows) * Fraction(plan["min_coverage"]) / 100) - len(picked)
    total_left = sum(len(v) for v in left.values())
    if need > 0 and total_left:
        need = min(need, total_left)
        share = {s: Fraction(need * len(left[s]), total_left) for s in order}
        base = {s: floor(share[s]) for s in order}
        for s in sorted(order, key=lambda s: (-(share[s] - base[s]), order.index(s)))[:need - sum(base.values())]:
            base[s] += 1
        for s in order:
            picked += left[s][:base[s]]
    picked.sort(key=lambda r: (h(f"{seed}:{r['establishment_id']}"), int(r["establishment_id"])))
    start, end = plan["period"]["start"], plan["period"]["end"]
    people = [p for p in pairing["inspectors"] if p[3] <= start and p[4] >= end]
    conflicts = {tuple(c) for c in pairing["conflicts"]}
    load = {p[0]: 0 for p in people}
    ikey = {p[0]: int(h(f"{seed}:inspector:{p[0]}")[:16], 16) for p in people}
    k, out = plan["inspectors_per_target"], []
    for r in picked:
        eid = int(r["establishment_id"])
        tkey = int(h(f"{seed}:{eid}")[:16], 16)
        rank = lambda i: (load[i], ikey[i] ^ tkey, i)  # noqa: E731
        grid = int(r["grid_id"]) if r["grid_id"] else None
        pool = sorted((p[0] for p in people if grid in p[2] and (p[0], eid) not in conflicts), key=rank)
        if len(pool) < k and plan["inspector_fallback"] == "district":
            pool += sorted((p[0] for p in people if p[1] == int(r["jurisdiction_id"]) and p[0] not in pool
                            and (p[0], eid) not in conflicts), key=rank)
        chosen = pool[:k] if len(pool) >= k else []
        last = pairing["last_pairs"].get(str(eid))
        if chosen and last is not None and set(chosen) == set(last):
            chosen = pool[:k - 1] + [pool[k]] if len(pool) > k else []
        for i in chosen:
            load[i] += 1
        out.append((eid, chosen))
    return out


def test_an_independent_reimplementation_agrees(runner, district, tmp_path):
    grid, pop = graded_population(district, {"A": 30, "B": 12, "C": 7, "D": 2, "E": 1, "ungraded": 5})
    other = factories.grid(district)
    w.establishments(other, 9)
    for _ in range(3):
        w.inspector(district, [grid])
    w.inspector(district, [other])
    runner.invoke(args=["inspectors", "conflict", "add", db.session.execute(
        select(__import__("supervision.registry.models", fromlist=["Inspector"]).Inspector.badge_no)).scalars().first(),
        pop["D"][0].credit_code, "--reason", "亲属"])
    report = run(runner, tmp_path, w.plan(min_coverage=35))
    out = tmp_path / "export"
    assert runner.invoke(args=["draw", "export", str(report["draw_id"]), "--out", str(out)]).exit_code == 0
    result = list(csv.DictReader(io.StringIO((out / "result.csv").read_text())))
    recorded = [(int(r["establishment_id"]), [int(i) for i in r["inspector_ids"].split()]) for r in result]
    assert independent_draw(out) == recorded
    assert hashlib.sha256((out / "candidates.csv").read_bytes()).hexdigest() == report["candidate_sha256"]


# --- tasks, progress, publication ---------------------------------------------------------------

def test_drawn_pairs_get_random_tasks_in_their_next_sync(runner, client, field, tmp_path):
    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    w.publish_grades({field.establishment: "D", field.other_establishment: "D"})
    report = run(runner, tmp_path, w.plan(grids=(field.establishment.grid.code,)))
    [target] = targets(report["draw_id"])
    assert sorted(target.inspector_ids) == sorted([field.inspector.id, field.partner.id])
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    [task] = [t for t in changes["tasks"] if t["kind"] == "random"]
    assert task["id"] == target.task_id and task["establishment_id"] == field.establishment.id
    assert {ti.inspector_id for ti in db.session.execute(select(TaskInspector)).scalars()} == \
        {field.inspector.id, field.partner.id}


def test_every_paired_target_gets_its_own_task_recorded_in_the_chain_and_an_unpaired_one_none(runner, district, tmp_path):
    from supervision.audit.models import AuditEntry
    from supervision.inspections.models import Task

    grid, _ = graded_population(district, {"D": 5})
    lonely = factories.grid(district)
    [alone] = w.establishments(lonely, 1)
    w.publish_grades({alone: "D"})
    report = run(runner, tmp_path, w.plan(min_coverage=0, inspector_fallback="none"))
    drawn = targets(report["draw_id"])
    paired = [t for t in drawn if t.inspector_ids]
    assert len(paired) == 5 and [t.establishment_id for t in drawn if not t.inspector_ids] == [alone.id]
    assert next(t for t in drawn if not t.inspector_ids).task_id is None
    tasks = {t.id: t for t in db.session.execute(select(Task).where(Task.kind == "random")).scalars()}
    assert sorted(tasks) == sorted(t.task_id for t in paired)
    for target in paired:
        task = tasks[target.task_id]
        assert (task.establishment_id, task.grid_id, task.status, task.due_on) == \
            (target.establishment_id, grid.id, "open", w.PERIOD[1])
        assert sorted(i for (i,) in db.session.execute(select(TaskInspector.inspector_id)
                                                       .where(TaskInspector.task_id == task.id))) == sorted(target.inspector_ids)
    entries = {int(e.entity_id): json.loads(e.payload) for e in db.session.execute(
        select(AuditEntry).where(AuditEntry.entity_type == "tasks", AuditEntry.action == "task.create")).scalars()}
    assert sorted(entries) == sorted(tasks)
    from supervision.jsonutil import plain

    assert all(entries[i]["after"] == plain(task.audit_snapshot()) for i, task in tasks.items())


def test_creating_tasks_in_bulk_refuses_an_unknown_kind_and_writes_nothing(district):
    from supervision.errors import ValidationFailed
    from supervision.inspections import tasks
    from supervision.inspections.models import Task

    [est] = w.establishments(factories.grid(district), 1)
    with pytest.raises(ValidationFailed) as refused:
        tasks.create_tasks(db.session, factories.ACTOR, [tasks.NewTask(est.id, est.grid_id, "random"),
                                                         tasks.NewTask(est.id, est.grid_id, "lottery")])
    assert "kind" in refused.value.fields
    assert db.session.execute(select(Task)).first() is None


def test_a_task_assigned_from_the_district_fallback_reaches_that_inspectors_device(runner, client, field, tmp_path):
    """The device's inspector is drawn for an establishment outside the device's grid."""
    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    w.publish_grades({field.other_establishment: "D"})
    report = run(runner, tmp_path, w.plan(grids=(field.other_establishment.grid.code,)))
    [target] = targets(report["draw_id"])
    assert set(target.inspector_ids) == {field.inspector.id, field.partner.id}
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert [t["establishment_id"] for t in changes["tasks"] if t["kind"] == "random"] == [field.other_establishment.id]


def test_progress_and_published_results_of_finished_inspections(runner, client, field, tmp_path):
    from tests.terminal import upload

    w.publish_grades({field.establishment: "D"})
    report = run(runner, tmp_path, w.plan(grids=(field.establishment.grid.code,)))
    [target] = targets(report["draw_id"])
    before = json.loads(runner.invoke(args=["draw", "progress", str(report["draw_id"]), "--json"]).output)
    assert before["draw"]["strata"]["D"] | {} == {**before["draw"]["strata"]["D"], "drawn": 1, "paired": 1, "completed": 0}
    assert client.get("/draws/P1").status_code == 200 and "南京市玄武区悦来宾馆" not in client.get("/draws/P1").text
    body = field.submission(task_id=target.task_id)
    assert client.post("/api/v1/inspections", json=body, headers=field.headers).status_code in (200, 201, 202)
    for data in field.files_of(body).values():
        assert upload(client, field, data).status_code in (200, 201)
    after = json.loads(runner.invoke(args=["draw", "progress", str(report["draw_id"]), "--json"]).output)
    assert after["draw"]["strata"]["D"]["completed"] == 1 and after["plan"]["total"]["completion"] == 1.0
    page = client.get("/draws/P1")
    assert page.status_code == 200 and field.establishment.name in page.text and "未发现问题" in page.text
    table = tmp_path / "r.csv"
    assert runner.invoke(args=["draw", "results", str(report["draw_id"]), "--out", str(table)]).exit_code == 0
    assert field.establishment.credit_code in table.read_text(encoding="utf-8-sig")
    xlsx = tmp_path / "r.xlsx"
    assert runner.invoke(args=["draw", "results", str(report["draw_id"]), "--out", str(xlsx)]).exit_code == 0
    from supervision.sampling.results import recent_random_results

    [recent] = recent_random_results(db.session, field.establishment.id)
    assert recent.plan_code == "P1" and recent.findings == 0


def test_an_unknown_plan_page_is_a_404(client):
    assert client.get("/draws/NOPE").status_code == 404


# --- the read-only API --------------------------------------------------------------------------

def test_a_device_reads_a_draw_of_its_jurisdiction_with_its_own_targets(runner, client, field, tmp_path):
    w.publish_grades({field.establishment: "D"})
    report = run(runner, tmp_path, w.plan(grids=(field.establishment.grid.code,)))
    body = client.get(f"/api/v1/draws/{report['draw_id']}", headers=field.headers).get_json()
    assert body["seed"] == report["seed"] and body["plan"]["code"] == "P1"
    assert [t["establishment_id"] for t in body["my_targets"]] == [field.establishment.id]
    assert body["strata"]["D"]["drawn"] == 1


def test_a_device_cannot_read_a_draw_of_another_jurisdiction(runner, client, field, tmp_path):
    other = factories.jurisdiction(code="320104", name="秦淮区")
    w.establishments(factories.grid(other), 2, district="320104")
    report = run(runner, tmp_path, w.plan(jurisdictions=("320104",)))
    assert client.get(f"/api/v1/draws/{report['draw_id']}", headers=field.headers).status_code == 403
    assert client.get("/api/v1/draws/999999", headers=field.headers).status_code == 404
    assert client.get(f"/api/v1/draws/{report['draw_id']}").status_code == 401
