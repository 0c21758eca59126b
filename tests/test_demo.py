"""`supervision demo`: complete, realistic, deterministic rows, one audit entry, and a database
that ordinary writes can still use afterwards."""
import math
import random
from collections import Counter
from datetime import date, datetime

from sqlalchemy import func, select

from supervision import audit
from supervision.app import create_app
from supervision.audit.models import AuditEntry
from supervision.demo import generate
from supervision.extensions import db
from supervision.registry import credit_code
from supervision.registry.models import (
    CreditSubject,
    Establishment,
    Grid,
    Inspector,
    Jurisdiction,
    Licence,
    PlateToken,
    inspector_grids,
)
from supervision.registry.plates import TOKEN_ALPHABET, TOKEN_LENGTH
from tests import factories
from tests.conftest import base_config

ACTOR = audit.Actor.cli("test")
TODAY = date(2026, 11, 24)


def _load(n, seed=generate.DEFAULT_SEED):
    summary = generate.load_demo(db.session, n, actor=ACTOR, seed=seed, today=TODAY, batch_size=64)
    db.session.commit()
    return summary


def _count(model_or_table):
    table = getattr(model_or_table, "__table__", model_or_table)
    return db.session.scalar(select(func.count()).select_from(table))


def _export() -> dict:
    """Everything the seed decides, without ids of other tables or timestamps."""
    e, j, g = Establishment.__table__, Jurisdiction.__table__, Grid.__table__
    establishments = db.session.execute(
        select(e.c.id, e.c.credit_code, e.c.name, e.c.category_code, e.c.address, j.c.code, g.c.code,
               e.c.latitude, e.c.longitude, e.c.legal_representative, e.c.status)
        .join(j, j.c.id == e.c.jurisdiction_id).join(g, g.c.id == e.c.grid_id).order_by(e.c.id)
    ).all()
    lt, pt, it = Licence.__table__, PlateToken.__table__, Inspector.__table__
    licences = db.session.execute(
        select(lt.c.establishment_id, lt.c.number, lt.c.kind, lt.c.issued_on, lt.c.expires_on).order_by(lt.c.id)
    ).all()
    tokens = db.session.execute(select(pt.c.establishment_id, pt.c.token).order_by(pt.c.id)).all()
    inspectors = db.session.execute(
        select(it.c.badge_no, it.c.name, it.c.certificate_no, it.c.certificate_valid_from,
               it.c.certificate_valid_until, it.c.phone).order_by(it.c.id)
    ).all()
    return {"establishments": establishments, "licences": licences, "tokens": tokens, "inspectors": inspectors}


def _load_and_export_elsewhere(databases, tmp_path, n, seed) -> dict:
    other = create_app(base_config(databases.new(), tmp_path))
    with other.app_context():
        try:
            _load(n, seed)
            return _export()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_every_establishment_is_complete_and_valid(app):
    summary = _load(200)
    assert summary.establishments == _count(Establishment) == 200
    assert _count(CreditSubject) == _count(PlateToken) == 200
    assert summary.licences == _count(Licence) >= 200

    establishments = db.session.execute(select(Establishment)).scalars().all()
    codes = [est.credit_code for est in establishments]
    assert len(set(codes)) == 200
    assert all(credit_code.is_valid(code) for code in codes), [c for c in codes if not credit_code.is_valid(c)]
    centres = {d.code: d for d in generate.DISTRICTS}
    for est in establishments:
        assert est.subject.kind == "establishment"
        assert est.active_plate is not None
        assert len(est.active_plate.token) == TOKEN_LENGTH and set(est.active_plate.token) <= set(TOKEN_ALPHABET)
        assert est.licences and all(lic.expires_on is None or lic.expires_on >= lic.issued_on for lic in est.licences)
        assert est.grid.jurisdiction_id == est.jurisdiction_id
        assert est.credit_code[2:8] == est.jurisdiction.code
        centre = centres[est.jurisdiction.code]
        km = math.hypot((est.latitude - centre.lat) * 111, (est.longitude - centre.lng) * 94)
        assert km <= centre.radius_km + 0.5
    statuses = [est.status for est in establishments]
    assert statuses.count("active") > 0.75 * len(statuses)
    categories = {est.category_code for est in establishments}
    assert {"medical", "beauty_hairdressing", "accommodation"} <= categories


def test_reference_data_grids_and_inspectors(app):
    _load(300)
    province = db.session.execute(select(Jurisdiction).where(Jurisdiction.code == "320000")).scalar_one()
    city = db.session.execute(select(Jurisdiction).where(Jurisdiction.code == "320100")).scalar_one()
    assert (province.name, city.name, city.parent_id) == ("江苏省", "南京市", province.id)
    districts = db.session.execute(select(Jurisdiction).where(Jurisdiction.level == "district")).scalars().all()
    assert len(districts) == len(generate.DISTRICTS) and all(d.parent_id == city.id for d in districts)
    assert db.session.execute(select(Grid).where(Grid.code == "320102-03")).scalar_one().name == "玄武区第3网格"

    grids = db.session.execute(select(Grid)).scalars().all()
    per_grid = dict(db.session.execute(
        select(inspector_grids.c.grid_id, func.count()).group_by(inspector_grids.c.grid_id)).all())
    assert all(per_grid.get(g.id, 0) >= 2 for g in grids)
    for inspector in db.session.execute(select(Inspector)).scalars():
        assert len(inspector.grids) in (1, 2)
        assert all(g.jurisdiction_id == inspector.jurisdiction_id for g in inspector.grids)
        assert inspector.phone and "phone" not in inspector.audit_snapshot()


def test_generated_rows_stay_unique_and_valid_at_scale():
    """Rare collisions (credit codes, tokens, a licence number repeated within one
    establishment) only show at volume: generate 30,000 rows in memory and check them."""
    rng = random.Random("scale")
    districts = [generate.DistrictRef(spec, i, [i * 100 + g for g in range(spec.grids)])
                 for i, spec in enumerate(generate.DISTRICTS)]
    maker = generate.EstablishmentMaker(rng, generate.NamePools.build(1), districts, TODAY, datetime(2026, 11, 24),
                                        generate.Taken())
    batch, licence_id = generate.Batch(), 1
    for i in range(1, 30_001):
        licence_id += maker.add(batch, i, i, i, licence_id)
    codes = [row["credit_code"] for row in batch.establishments]
    assert len(set(codes)) == len(codes) and all(credit_code.is_valid(c) for c in codes)
    assert len({row["token"] for row in batch.plates}) == len(batch.plates)
    numbers = [(row["establishment_id"], row["number"]) for row in batch.licences]
    assert len(set(numbers)) == len(numbers)
    assert all(len(row["number"]) <= 64 and len(row["kind"]) <= 64 for row in batch.licences)
    assert all(len(row["name"]) <= 200 and len(row["address"]) <= 300 for row in batch.establishments)
    shares = Counter(row["category_code"] for row in batch.establishments)
    assert shares.most_common(2)[0][0] in ("beauty_hairdressing", "medical")
    assert shares["accommodation"] + shares["bathing"] + shares["swimming"] + shares["beauty_hairdressing"] > 0.4 * 30_000


def test_inspector_targets_scale_with_establishments_and_are_capped():
    def districts(establishments_each):
        return [generate.DistrictRef(spec, i, list(range(spec.grids)), 0, establishments_each)
                for i, spec in enumerate(generate.DISTRICTS)]

    floor = sum(2 * spec.grids for spec in generate.DISTRICTS)
    assert sum(generate.inspector_targets(districts(10)).values()) == floor
    assert sum(generate.inspector_targets(districts(10_000)).values()) == 11 * 67  # 10,000 / 150
    huge = generate.inspector_targets(districts(1_000_000))
    assert floor < sum(huge.values()) <= generate.MAX_INSPECTORS


def test_same_seed_same_data_and_another_seed_other_data(fresh_app, databases, tmp_path):
    _load(120, seed=7)
    first = _export()
    assert first == _load_and_export_elsewhere(databases, tmp_path / "same", 120, seed=7)
    other = _load_and_export_elsewhere(databases, tmp_path / "other", 120, seed=8)
    assert [row.credit_code for row in other["establishments"]] != [row.credit_code for row in first["establishments"]]
    assert {row.name for row in other["establishments"]} != {row.name for row in first["establishments"]}
    assert {row.token for row in other["tokens"]}.isdisjoint(row.token for row in first["tokens"])


def test_the_load_is_one_audit_entry_and_the_chain_verifies(app, runner):
    summary = _load(150, seed=3)
    entries = db.session.execute(select(AuditEntry)).scalars().all()
    assert [(e.action, e.entity_type) for e in entries] == [("demo.load", "demo")]
    assert entries[0].actor_ref == ACTOR.ref
    assert '"establishments":150' in entries[0].payload and f'"licences":{summary.licences}' in entries[0].payload
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 1 entries" in result.output


def test_orm_inserts_work_after_a_load(fresh_app):
    """On PostgreSQL the load assigns ids itself; the sequences must have been moved past them."""
    summary = _load(80)
    licences = _count(Licence)
    district = db.session.execute(select(Jurisdiction).where(Jurisdiction.code == "320102")).scalar_one()
    inspector = factories.inspector(district)
    est = factories.establishment(district="320104")
    db.session.commit()
    assert est.id == summary.last_establishment_id + 1 == 81
    assert est.subject_id == 81 and est.active_plate.id == 81
    assert est.licences[0].id == licences + 1
    assert inspector.id == summary.inspectors + 1


def test_appending_keeps_existing_data_and_never_repeats_codes(fresh_app, runner):
    factories.jurisdiction()  # 320102 玄武区, as an administrator would have made it
    factories.establishment()
    db.session.commit()
    _load(100, seed=5)
    _load(100, seed=5)
    assert _count(Establishment) == 201
    assert _count(Jurisdiction) == 2 + len(generate.DISTRICTS)
    assert _count(Grid) == sum(spec.grids for spec in generate.DISTRICTS)
    codes = db.session.execute(select(Establishment.credit_code)).scalars().all()
    tokens = db.session.execute(select(PlateToken.token)).scalars().all()
    names = db.session.execute(select(Establishment.name).where(Establishment.id > 1).order_by(Establishment.id)).scalars().all()
    assert len(set(codes)) == 201 and len(set(tokens)) == 201
    assert names[:100] != names[100:]  # the second load is not a copy of the first
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "demo.load")) == 2
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_cli_command(runner):
    result = runner.invoke(args=["demo", "--establishments", "50", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "created 50 establishments" in result.output
    assert "took" in result.output
    assert _count(Establishment) == 50


def test_cli_prepares_the_field_for_a_terminal(runner, client):
    from supervision.checklists.service import versions_in_use
    from supervision.inspections.models import Task

    result = runner.invoke(args=["demo", "--establishments", "60", "--seed", "2", "--tasks", "5"])
    assert result.exit_code == 0, result.output
    assert len(versions_in_use(db.session)) >= 6
    assert _count(Task) == 5
    code = result.output.split("with code ")[1].split()[0]
    enrolled = client.post("/api/v1/devices/enrol", json={"code": code})
    assert enrolled.status_code == 201
    token = enrolled.get_json()["token"]
    bootstrap = client.get("/api/v1/sync/bootstrap", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert bootstrap["establishments"] and bootstrap["checklist_versions"]


def test_cli_if_empty_leaves_a_filled_database_alone(runner):
    runner.invoke(args=["demo", "--establishments", "20", "--seed", "1"])
    result = runner.invoke(args=["demo", "--establishments", "20", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
    assert _count(Establishment) == 20


# --- credit information ---------------------------------------------------------------------

def _credit_rows():
    from supervision.credit.models import CreditRecord, Penalty

    rt, pt = CreditRecord.__table__, Penalty.__table__
    records = db.session.execute(
        select(rt.c.id, rt.c.subject_id, rt.c.kind, rt.c.code, rt.c.severity, rt.c.title, rt.c.arose_on,
               rt.c.source_type, rt.c.source_ref, rt.c.practice_points, rt.c.producing_department).order_by(rt.c.id)
    ).all()
    penalties = db.session.execute(
        select(pt.c.decision_no, pt.c.decided_on, pt.c.penalty_type, pt.c.amount_fen, pt.c.procedure, pt.c.serious,
               pt.c.fulfilled_on, pt.c.credit_record_id).order_by(pt.c.id)).all()
    return records, penalties


def test_a_year_of_credit_information_about_five_records_each(app):
    from supervision.credit import records as credit_records
    from supervision.credit.models import CreditRecord
    from supervision.credit.policies import Policies

    summary = _load(400, seed=11)
    rows = db.session.execute(select(CreditRecord)).scalars().all()
    assert summary.credit.records == len(rows) and 3.5 * 400 <= len(rows) <= 6.5 * 400
    kinds = Counter(r.kind for r in rows)
    assert {"licensing", "inspection", "penalty", "positive", "adverse", "dishonesty", "bad_practice_points"} <= set(kinds)
    assert kinds["inspection"] > kinds["penalty"] > kinds["dishonesty"]
    policies = Policies(db.session)
    for r in rows:  # every demo record is one the credit service itself would accept
        assert date(2025, 11, 24) <= r.arose_on < TODAY
        problems, severity, _ = credit_records.check_fact(credit_records.Fact(
            subject_id=r.subject_id, kind=r.kind, code=r.code, severity=r.severity, title=r.title,
            arose_on=r.arose_on, source_type=r.source_type, source_ref=r.source_ref,
            producing_unit_id=r.producing_unit_id, channel=r.channel, practice_points=r.practice_points), policies)
        assert problems == {} and severity == r.severity, (r.kind, r.code, problems)


def test_demo_penalties_are_lawful_and_mostly_light(app):
    _load(600, seed=12)
    records, penalties = _credit_rows()
    by_id = {r.id: r for r in records}
    assert penalties
    for p in penalties:
        record = by_id[p.credit_record_id]
        assert (record.kind, record.code) == ("penalty", p.penalty_type)
        if p.procedure == "simple":
            assert p.penalty_type in ("warning", "fine") and not p.serious
            assert p.amount_fen is None or p.amount_fen <= 300_000
        assert (p.penalty_type == "fine") <= (p.amount_fen is not None)
        assert p.fulfilled_on is None or p.decided_on <= p.fulfilled_on <= TODAY
    serious = sum(p.serious for p in penalties)
    assert serious < 0.2 * len(penalties)
    assert sum(p.penalty_type == "licence_revocation" for p in penalties) <= serious


def test_demo_credit_information_is_deterministic(fresh_app, databases, tmp_path):
    _load(120, seed=7)
    first = _credit_rows()
    other = create_app(base_config(databases.new(), tmp_path))
    with other.app_context():
        try:
            _load(120, seed=7)
            assert _credit_rows() == first
        finally:
            db.session.remove()
            db.engine.dispose()


def test_cli_publishes_the_demo_year_of_grades_so_plates_show_one(runner):
    from supervision.credit.grading.current import current_grades

    result = runner.invoke(args=["demo", "--establishments", "80", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "credit grades of" in result.output and "published (run" in result.output
    subjects = db.session.execute(select(Establishment.subject_id).where(Establishment.status == "active")).scalars().all()
    grades = current_grades(db.session, subjects)
    assert len(grades) == len(subjects) and {g.grade for g in grades.values()} <= set("ABCDE")


def test_a_second_demo_load_leaves_the_published_grades_alone(runner):
    runner.invoke(args=["demo", "--establishments", "30", "--seed", "3"])
    result = runner.invoke(args=["demo", "--establishments", "30", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "were already published" in result.output
