"""Yearly grading: scores, windows and cut-off, hard rules, policy inheritance and dates."""
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supervision.credit.grading import current_grade, run_grading
from supervision.credit.grading.models import Grade, GradeContribution, GradingRun
from supervision.extensions import db
from supervision.policy import PACKAGED_ROOT
from tests import credit_factory as credit
from tests import factories

ACTOR = factories.ACTOR
DEFAULT = (PACKAGED_ROOT / "grading" / "default" / "2020-01-01.toml").read_text(encoding="utf-8")
NOW = datetime(2026, 1, 20, 2, 0)


def grade_of(run, est) -> Grade:
    return db.session.execute(select(Grade).where(Grade.run_id == run.id, Grade.subject_id == est.subject_id)).scalar_one()


def run(year=2025, jurisdiction=None, roots=(), **kw):
    return run_grading(db.session, ACTOR, year=year, jurisdiction=jurisdiction, policy_roots=roots, now=NOW, **kw).run


def policy_file(root: Path, jurisdiction: str, day: str, text: str) -> Path:
    path = root / "grading" / jurisdiction / f"{day}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def est(app):
    factories.jurisdiction()
    return factories.establishment()


def test_nothing_on_record_gives_the_base_score(est):
    g = grade_of(run(), est)
    assert (g.score, g.grade, g.hard_rule) == (90, "B", None)


def test_points_by_severity_code_and_practice_point(est):
    credit.record(est.subject_id, "inspection", severity="none")  # +2
    credit.record(est.subject_id, "penalty", code="fine", severity="general")  # -15
    credit.record(est.subject_id, "positive", code="honour")  # +8
    credit.record(est.subject_id, "bad_practice_points", practice_points=4)  # -4
    g = grade_of(run(), est)
    assert g.score == 90 + 2 - 15 + 8 - 4
    rules = dict(db.session.execute(select(GradeContribution.rule_key, GradeContribution.points)
                                    .where(GradeContribution.grade_id == g.id)).all())
    assert rules == {"points.inspection.none": 2, "points.penalty.general": -15, "points.positive.codes.honour": 8,
                     "points.bad_practice_points.per_point": -4}


def test_sql_engine_and_the_python_reading_of_the_policy_agree(est):
    from supervision.credit.grading import policy as grading_policy
    from supervision.credit.models import CreditRecord

    cases = [("inspection", None, s) for s in ("none", "minor", "general", "serious")] + [
        ("penalty", c, s) for c in ("warning", "fine", "licence_revocation") for s in ("minor", "general", "serious")] + [
        ("positive", c, "none") for c in ("commendation", "honour", "voluntary_disclosure", "commitment_kept", "other")] + [
        ("dishonesty", "x", "serious"), ("adverse", "rectification_overdue", "general"), ("coercive_measure", None, "minor")]
    for kind, code, severity in cases:
        credit.record(est.subject_id, kind, code=code, severity=severity)
    credit.record(est.subject_id, "bad_practice_points", practice_points=3)
    g = grade_of(run(), est)
    policy = grading_policy.load().resolve([], date(2025, 6, 1)).value
    rows = db.session.execute(select(GradeContribution, CreditRecord)
                              .join(CreditRecord, CreditRecord.id == GradeContribution.record_id)
                              .where(GradeContribution.grade_id == g.id)).all()
    assert len(rows) == len(cases) + 1
    for contribution, record in rows:
        expected = policy.points_for(record.kind, record.code, record.severity, record.practice_points)
        assert (contribution.points, contribution.rule_key) == expected


def test_record_on_last_day_of_year_counts_and_next_day_does_not(est):
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2025, 12, 31),
                  entered_at=datetime(2026, 1, 2))
    credit.record(est.subject_id, "penalty", severity="serious", arose_on=date(2026, 1, 1),
                  entered_at=datetime(2026, 1, 2))
    assert grade_of(run(), est).score == 75


def test_record_entered_on_cut_off_day_counts_and_day_after_does_not(est):
    # 10 January 23:59 in China is 15:59 UTC; 11 January 00:00 China is 16:00 UTC.
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2025, 11, 1),
                  entered_at=datetime(2026, 1, 10, 15, 59))
    credit.record(est.subject_id, "penalty", severity="minor", arose_on=date(2025, 11, 2),
                  entered_at=datetime(2026, 1, 10, 16, 0))
    g = grade_of(run_grading(db.session, ACTOR, year=2025, now=datetime(2026, 2, 1)).run, est)
    assert g.score == 75


def test_record_arising_on_cut_off_day_is_not_in_the_graded_year(est):
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2026, 1, 10),
                  entered_at=datetime(2026, 1, 10, 3))
    assert grade_of(run(), est).score == 90


def test_counting_window_per_kind(est):
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2023, 1, 1))  # 3 years: counts
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2022, 12, 31))  # too old
    credit.record(est.subject_id, "inspection", severity="serious", arose_on=date(2024, 12, 31))  # 1 year: too old
    assert grade_of(run(), est).score == 75


def test_only_effective_and_objected_unsuperseded_records_count(est):
    credit.record(est.subject_id, "penalty", severity="general", status="under_objection")
    credit.record(est.subject_id, "penalty", severity="general", status="revoked")
    credit.record(est.subject_id, "penalty", severity="general", status="repaired")
    superseded = credit.record(est.subject_id, "penalty", severity="general")
    superseded.superseded_at = datetime(2025, 7, 1)
    db.session.flush()
    assert grade_of(run(), est).score == 75


def test_licence_revoked_is_e_whatever_the_score(est):
    for _ in range(5):
        credit.record(est.subject_id, "positive", code="honour")
    credit.record(est.subject_id, "penalty", code="licence_revocation", severity="serious")
    g = grade_of(run(), est)
    assert (g.grade, g.hard_rule) == ("E", "licence_revoked")


def test_serious_dishonesty_caps_at_d(est):
    for _ in range(8):
        credit.record(est.subject_id, "positive", code="honour")
    credit.record(est.subject_id, "dishonesty", code="false_information", severity="serious")
    g = grade_of(run(), est)
    assert g.score == 90 + 64 - 40 and (g.grade, g.hard_rule) == ("D", "serious_dishonesty")


def test_serious_penalty_caps_at_c(est):
    for _ in range(6):
        credit.record(est.subject_id, "positive", code="honour")
    credit.record(est.subject_id, "penalty", code="fine", severity="serious")
    g = grade_of(run(), est)
    assert g.score == 108 and (g.grade, g.hard_rule) == ("C", "serious_penalty")


def test_a_hard_rule_never_raises_a_grade(est):
    credit.record(est.subject_id, "dishonesty", severity="serious")
    credit.record(est.subject_id, "penalty", severity="serious")  # 90 - 40 - 30 = 20: E by score
    g = grade_of(run(), est)
    assert (g.grade, g.hard_rule) == ("E", None)  # the score alone made it E


def test_blacklisted_is_e(est):
    credit.record(est.subject_id, "positive", code="honour")
    on_list = run(list_members=lambda name, on: [est.subject_id] if name == "blacklist" else [])
    g = grade_of(on_list, est)
    assert (g.grade, g.hard_rule) == ("E", "blacklisted")


def test_blacklist_is_empty_until_the_lists_exist(est):
    assert grade_of(run(), est).hard_rule is None


def test_district_inherits_city_policy_and_a_mid_year_change_applies_from_its_date(est, tmp_path):
    # The city (320100) doubles penalties from 1 July 2025; the district 320102 has no file.
    policy_file(tmp_path, "320100", "2025-07-01",
                DEFAULT.replace("general = -15", "general = -30"))
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2025, 6, 30))
    credit.record(est.subject_id, "penalty", severity="general", arose_on=date(2025, 7, 1))
    g = grade_of(run(roots=[tmp_path]), est)
    assert g.score == 90 - 15 - 30
    versions = db.session.execute(select(GradeContribution.points, GradeContribution.policy_id)
                                  .where(GradeContribution.grade_id == g.id).order_by(GradeContribution.points)).all()
    assert versions[0].policy_id != versions[1].policy_id


def test_a_district_file_overrides_its_city(est, tmp_path):
    policy_file(tmp_path, "320100", "2020-01-01", DEFAULT.replace("base = 90", "base = 80"))
    policy_file(tmp_path, "320102", "2020-01-01", DEFAULT.replace("base = 90", "base = 96"))
    assert grade_of(run(roots=[tmp_path]), est).grade == "A"


def test_a_city_file_applies_to_its_districts_only(app, tmp_path):
    factories.jurisdiction()
    factories.jurisdiction(code="320301", name="鼓楼区", level="district",
                           parent=factories.jurisdiction(code="320300", name="徐州市", level="city",
                                                         parent=factories._existing("320000")))
    nanjing = factories.establishment()
    xuzhou = factories.establishment(district="320301", address="江苏省徐州市鼓楼区中山北路1号")
    policy_file(tmp_path, "320300", "2020-01-01", DEFAULT.replace("base = 90", "base = 60"))
    r = run(roots=[tmp_path])
    assert grade_of(r, nanjing).score == 90 and grade_of(r, xuzhou).score == 60


def test_only_active_establishments_of_the_scope_are_graded(app):
    factories.jurisdiction()
    factories.jurisdiction(code="320104", name="秦淮区")
    inside = factories.establishment()
    factories.establishment(status="closed")
    factories.establishment(district="320104")
    r = run(jurisdiction="320102")
    assert [g.establishment_id for g in db.session.execute(select(Grade).where(Grade.run_id == r.id)).scalars()] == [inside.id]
    assert r.counts == {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0}


def test_practitioners_are_not_graded_by_default(est):
    doctor = credit.practitioner()
    credit.record(doctor.id, "bad_practice_points", practice_points=3)
    r = run()
    assert db.session.execute(select(func.count()).select_from(Grade).where(Grade.run_id == r.id)).scalar_one() == 1


def test_a_policy_can_grade_practitioners(est, tmp_path):
    policy_file(tmp_path, "default", "2020-01-01",
                DEFAULT.replace('graded = ["establishment"]', 'graded = ["establishment", "practitioner"]'))
    doctor = credit.practitioner()
    credit.record(doctor.id, "bad_practice_points", practice_points=12)
    r = run(roots=[tmp_path])
    g = db.session.execute(select(Grade).where(Grade.run_id == r.id, Grade.subject_id == doctor.id)).scalar_one()
    assert (g.score, g.grade, g.establishment_id) == (78, "C", None)


def test_score_is_clamped_to_policy_bounds(est):
    for _ in range(5):
        credit.record(est.subject_id, "dishonesty", severity="general")
    assert grade_of(run(), est).score == 0


@pytest.mark.parametrize("change, key, reason", [
    ("base = 90", "base = 200", "score.base"),
    ("A = 95", "A = 80", "grades.A"),
    ("penalty = 3", "penalty = 0", "windows.penalty"),
    ('at_most = "D"', 'at_most = "F"', "hard_rules[2].at_most"),
    ('cutoff = "01-10"', 'cutoff = "13-10"', "calendar.cutoff"),
    ("[score]", "[score]\nbonus = 1", "score.bonus"),
    ("[points.adverse]", "[points.levy]\nminor = 1\n[points.adverse]", "points.levy"),
])
def test_malformed_policy_is_refused_naming_file_and_key_and_nothing_is_written(est, tmp_path, change, key, reason):
    from supervision.policy import PolicyInvalid

    path = policy_file(tmp_path, "320100", "2024-01-01", DEFAULT.replace(change, key, 1))
    before = db.session.execute(select(func.count()).select_from(GradingRun)).scalar_one()
    with pytest.raises(PolicyInvalid) as caught:
        run(roots=[tmp_path])
    assert str(path) in caught.value.message and caught.value.key == reason
    assert db.session.execute(select(func.count()).select_from(GradingRun)).scalar_one() == before


def test_current_grade_is_the_latest_published(est):
    from supervision.credit.grading import approve, publish

    assert current_grade(db.session, est.subject_id) is None
    r = run()
    assert current_grade(db.session, est.subject_id) is None  # a draft is nobody's grade
    approve(db.session, ACTOR, r.id, by="张三")
    publish(db.session, ACTOR, r.id, by="李四")
    assert current_grade(db.session, est.subject_id).grade == "B"


def test_malformed_policy_leaves_an_existing_draft_alone(est, tmp_path):
    from supervision.policy import PolicyInvalid

    first = run()
    policy_file(tmp_path, "default", "2024-01-01", DEFAULT.replace("A = 95", "A = 'x'"))
    with pytest.raises(PolicyInvalid):
        run(roots=[tmp_path])
    assert db.session.execute(select(GradingRun.id)).scalars().all() == [first.id]
