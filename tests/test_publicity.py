"""Publicity windows: first and last public day per procedure, status, and dated
per-jurisdiction policy replacing the default from its date."""
from datetime import date

import pytest

from supervision.credit import records
from supervision.credit.policies import Policies
from supervision.credit.publicity import publicity_of
from supervision.extensions import db
from supervision.policy import PolicyInvalid
from tests.credit_support import ACTOR, counts, establishment, fact


@pytest.fixture
def est(app):
    return establishment()[0]


def penalty(est, severity, decided_on, ref="p"):
    return records.record(db.session, ACTOR, fact(est, kind="penalty", code="fine", severity=severity,
                                                  arose_on=decided_on, source_type="penalty", source_ref=ref,
                                                  channel="system"))


def public(row, on, policies=None):
    return publicity_of(row, on=on, policies=policies or Policies(db.session))


@pytest.mark.parametrize("severity, last_day, repair_from", [
    ("general", date(2026, 3, 14), date(2025, 6, 15)),  # at least 3 months, at most 1 year
    ("serious", date(2028, 3, 14), date(2026, 3, 15)),  # at least 1 year, at most 3 years
])
def test_a_penalty_is_public_from_its_decision_day_to_the_end_of_its_maximum(est, severity, last_day, repair_from):
    row = penalty(est, severity, date(2025, 3, 15))
    assert not public(row, date(2025, 3, 14)).public
    first = public(row, date(2025, 3, 15))
    assert first.public and first.public_from == date(2025, 3, 15) and first.public_until == last_day
    assert first.repair_from == repair_from
    assert public(row, last_day).public
    after = public(row, date.fromordinal(last_day.toordinal() + 1))
    assert not after.public and after.note == "公示期已满"


def test_a_simple_procedure_penalty_is_never_public(est):
    row = penalty(est, "minor", date(2025, 3, 15))
    assert not any(public(row, date(2025, 3, d)).public for d in (15, 16, 31))


def test_a_repaired_penalty_stops_being_public(est):
    row = penalty(est, "general", date(2025, 3, 15))
    records.change_status(db.session, ACTOR, row.id, "repaired", "已履行并完成信用修复")
    result = public(row, date(2025, 8, 1))
    assert not result.public and "信用修复" in result.note


def test_an_objected_penalty_stays_public_marked_under_review(est):
    row = penalty(est, "general", date(2025, 3, 15))
    records.change_status(db.session, ACTOR, row.id, "under_objection", "单位提出异议")
    result = public(row, date(2025, 8, 1))
    assert result.public and result.under_review


def test_an_internal_kind_is_not_public_and_a_listed_kind_is(est):
    assert not public(records.record(db.session, ACTOR, fact(est, source_ref="pos")), date(2026, 6, 1)).public
    inspection = records.record(db.session, ACTOR, fact(est, kind="inspection", code="inspection", severity="minor",
                                                         source_type="inspection", source_ref="i"))
    assert public(inspection, date(2026, 6, 1)).public


def _write(root, jurisdiction, day, general_max):
    path = root / "publicity" / jurisdiction / f"{day}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'''title = "本地公示期限"
basis = "测试"
[penalty.simple]
published = false
[penalty.general]
published = true
min_months = 1
max_months = {general_max}
[penalty.serious]
published = true
min_months = 12
max_months = 36
[records]
published_kinds = ["licensing"]
''', encoding="utf-8")
    return path


def test_a_jurisdiction_policy_replaces_the_default_from_its_date(est, tmp_path):
    _write(tmp_path, "320102", "2026-07-01", 6)
    policies = Policies(db.session, [tmp_path])
    before = penalty(est, "general", date(2026, 6, 30), ref="a")
    from_date = penalty(est, "general", date(2026, 7, 1), ref="b")
    assert public(before, date(2026, 6, 30), policies).public_until == date(2027, 6, 29)
    result = public(from_date, date(2026, 7, 1), policies)
    assert result.public_until == date(2026, 12, 31) and result.policy_version.startswith("publicity/320102/")
    assert not public(from_date, date(2027, 1, 1), policies).public


def test_a_city_policy_applies_to_its_districts(est, tmp_path):
    _write(tmp_path, "320100", "2020-01-01", 2)
    row = penalty(est, "general", date(2026, 1, 31))
    assert public(row, date(2026, 1, 31), Policies(db.session, [tmp_path])).public_until == date(2026, 3, 30)


def test_the_2019_notice_governs_penalties_decided_before_2023(est):
    row = penalty(est, "serious", date(2021, 1, 10))
    result = public(row, date(2021, 1, 10))
    assert result.repair_from == date(2021, 7, 10) and "2019-07-01" in result.policy_version


@pytest.mark.parametrize("replace, key", [
    ("max_months = 12", "max_months = 0"),
    ("min_months = 1", "min_months = 99"),
    ('published_kinds = ["licensing"]', 'published_kinds = ["gossip"]'),
])
def test_a_malformed_publicity_file_names_file_and_key_and_changes_nothing(runner, est, tmp_path, monkeypatch,
                                                                           replace, key):
    penalty(est, "general", date(2026, 3, 1))
    db.session.commit()
    path = _write(tmp_path, "default", "2026-01-01", 12)
    path.write_text(path.read_text(encoding="utf-8").replace(replace, key), encoding="utf-8")
    monkeypatch.setitem(runner.app.config, "POLICY_DIR", str(tmp_path))
    with pytest.raises(PolicyInvalid) as caught:
        Policies.current(db.session).set("publicity")
    assert str(path) in caught.value.message
    before = counts()
    result = runner.invoke(args=["credit", "records", est.credit_code])
    assert result.exit_code == 1 and str(path) in result.output
    assert counts() == before
