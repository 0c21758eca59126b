"""Recording credit facts: validation, status history, supersession, late entries, the
dishonesty catalogue, and the `credit add / records / status / late / catalogue` commands."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.credit import late, records
from supervision.credit.calendar import add_months, china_today
from supervision.credit.models import CreditRecord, CreditRecordStatusChange
from supervision.credit.policies import Policies
from supervision.errors import Conflict, ValidationFailed
from supervision.extensions import db
from tests.credit_support import ACTOR, counts, establishment, fact


@pytest.fixture
def est(app):
    return establishment()[0]


def test_a_fact_is_written_with_its_provenance_and_audited(app, est):
    row = records.record(db.session, ACTOR, fact(est))
    db.session.commit()
    assert (row.kind, row.code, row.severity, row.status) == ("positive", "commendation", "none", "effective")
    assert (row.channel, row.entered_by, row.reason) == ("manual", "张科长", "纸质材料补录")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "credit_record.create")).scalars().all()[-1]
    assert entry.entity_id == str(row.id)


@pytest.mark.parametrize("overrides, field", [
    ({"kind": "gossip"}, "kind"),
    ({"kind": "penalty", "code": "flogging", "severity": "general"}, "code"),
    ({"kind": "positive", "code": "honour", "severity": "serious"}, "severity"),
    ({"kind": "bad_practice_points", "code": "bad_practice", "severity": "minor"}, "practice_points"),
    ({"title": "  "}, "title"),
])
def test_an_unknown_or_inconsistent_fact_is_refused_naming_the_field(app, est, overrides, field):
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        records.record(db.session, ACTOR, fact(est, **overrides))
    assert field in caught.value.fields
    assert counts() == before


def test_an_unknown_record_kind_from_the_command_line_changes_nothing(runner, est):
    before = counts()
    result = runner.invoke(args=["credit", "add", est.credit_code, "--kind", "dishonesty", "--code", "no_such_entry",
                                 "--arose-on", "2026-03-01", "--title", "测试", "--by", "张科长", "--reason", "补录"])
    assert result.exit_code == 1 and "失信行为目录" in result.output
    assert counts() == before


def test_the_same_source_is_not_recorded_twice(app, est):
    records.record(db.session, ACTOR, fact(est, source_ref="same"))
    with pytest.raises(Conflict):
        records.record(db.session, ACTOR, fact(est, source_ref="same"))


def test_a_dishonesty_record_takes_its_severity_and_basis_from_the_catalogue(app, est):
    row = records.record(db.session, ACTOR, fact(est, kind="dishonesty", code="licence_forged", severity=None,
                                                 legal_basis=None))
    assert row.severity == "serious" and "医疗机构管理条例" in row.legal_basis


def test_a_dishonesty_record_cannot_contradict_the_catalogue_severity(app, est):
    with pytest.raises(ValidationFailed) as caught:
        records.record(db.session, ACTOR, fact(est, kind="dishonesty", code="licence_forged", severity="minor"))
    assert "severity" in caught.value.fields


def test_status_changes_are_kept_as_history_and_never_touch_the_fact(app, est):
    row = records.record(db.session, ACTOR, fact(est))
    title, arose = row.title, row.arose_on
    records.change_status(db.session, ACTOR, row.id, "under_objection", "单位提出异议", by="李科员")
    records.change_status(db.session, ACTOR, row.id, "corrected", "核实有误，予以更正", by="张科长")
    history = records.status_history(db.session, row.id)
    assert [(h.from_status, h.to_status, h.changed_by) for h in history] == [
        ("effective", "under_objection", "李科员"), ("under_objection", "corrected", "张科长")]
    assert (row.status, row.title, row.arose_on) == ("corrected", title, arose)


def test_a_final_status_cannot_change_again(app, est):
    row = records.record(db.session, ACTOR, fact(est))
    records.change_status(db.session, ACTOR, row.id, "revoked", "录入错误")
    with pytest.raises(Conflict):
        records.change_status(db.session, ACTOR, row.id, "effective", "恢复")


def test_a_status_change_needs_a_reason(app, est):
    row = records.record(db.session, ACTOR, fact(est))
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        records.change_status(db.session, ACTOR, row.id, "repaired", " ")
    assert "reason" in caught.value.fields and counts() == before


def test_status_command_records_the_named_supervisor(runner, est):
    row = records.record(db.session, ACTOR, fact(est))
    db.session.commit()
    result = runner.invoke(args=["credit", "status", str(row.id), "--to", "under_objection", "--reason", "异议",
                                 "--by", "王主任"])
    assert result.exit_code == 0, result.output
    change = db.session.execute(select(CreditRecordStatusChange)).scalar_one()
    assert change.changed_by == "王主任" and change.actor_ref.startswith("cli:")


def test_superseding_a_source_withdraws_its_facts(app, est):
    row = records.record(db.session, ACTOR, fact(est, source_type="inspection", source_ref="u-1", kind="inspection",
                                                 code="inspection", channel="handheld_terminal"))
    assert records.supersede_source(db.session, ACTOR, "inspection", "u-1") == 1
    assert row.superseded_at is not None
    assert records.supersede_source(db.session, ACTOR, "inspection", "u-1") == 0


def test_add_and_list_from_the_command_line(runner, est):
    result = runner.invoke(args=["credit", "add", est.credit_code, "--kind", "bad_practice_points", "--code",
                                 "bad_practice", "--severity", "general", "--points", "6", "--arose-on",
                                 china_today().isoformat(), "--title", "超范围执业记分", "--by", "张科长",
                                 "--reason", "纸质文书补录"])
    assert result.exit_code == 0, result.output
    row = db.session.execute(select(CreditRecord)).scalar_one()
    assert (row.channel, row.source_type, row.entered_by, row.practice_points) == ("manual", "manual", "张科长", 6)
    listing = runner.invoke(args=["credit", "records", est.credit_code])
    assert "超范围执业记分" in listing.output and "公示中" in listing.output


def test_a_manual_entry_may_not_arise_in_the_future(runner, est):
    result = runner.invoke(args=["credit", "add", est.credit_code, "--kind", "positive", "--code", "honour",
                                 "--arose-on", (china_today() + timedelta(days=1)).isoformat(), "--title", "荣誉",
                                 "--by", "张科长", "--reason", "补录"])
    assert result.exit_code == 1 and "晚于今天" in result.output


# --- late entries ---------------------------------------------------------------------------

@pytest.mark.parametrize("arose, entered, is_late", [
    (date(2026, 3, 15), date(2026, 4, 15), False),  # exactly one month
    (date(2026, 3, 15), date(2026, 4, 16), True),  # one day more
    (date(2026, 1, 31), date(2026, 2, 28), False),  # month end: Jan 31 + 1 month = Feb 28
    (date(2026, 1, 31), date(2026, 3, 1), True),
    (date(2024, 1, 31), date(2024, 2, 29), False),  # leap year
    (date(2026, 12, 31), date(2027, 1, 31), False),
])
def test_late_is_more_than_one_calendar_month(arose, entered, is_late):
    assert late.is_late(arose, entered) is is_late


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 8, 31), 36) == date(2029, 8, 31)


def _entered(est, arose_on, entered_on, source_type="manual", department=None):
    row = records.record(db.session, ACTOR, fact(est, arose_on=arose_on, source_type=source_type,
                                                 source_ref=f"{arose_on}-{entered_on}-{source_type}",
                                                 producing_department=department))
    # Entered at noon China time that day.
    row.entered_at = datetime(entered_on.year, entered_on.month, entered_on.day, 4, 0)
    return row


def test_late_command_lists_late_entries_per_unit_and_department(runner, est):
    _entered(est, date(2026, 1, 31), date(2026, 2, 28))  # on time
    late_one = _entered(est, date(2026, 1, 31), date(2026, 3, 1))
    _entered(est, date(2026, 5, 1), date(2026, 8, 1), source_type="import", department="市场监督管理局")
    _entered(est, date(2025, 5, 1), date(2026, 8, 1))  # another year
    db.session.commit()
    groups = late.late_entries(db.session, 2026)
    assert sorted((g.department or "", len(g.records)) for g in groups) == [("", 1), ("市场监督管理局", 1)]
    result = runner.invoke(args=["credit", "late", "--year", "2026"])
    assert result.exit_code == 0 and "迟报信用信息 2 条" in result.output and str(late_one.id) in result.output


def test_an_inspection_record_is_never_late(app, est):
    _entered(est, date(2026, 1, 1), date(2026, 6, 1), source_type="inspection")
    assert late.late_entries(db.session, 2026) == []


# --- the dishonesty catalogue ---------------------------------------------------------------

def test_catalogue_command_prints_the_catalogue(runner):
    result = runner.invoke(args=["credit", "catalogue"])
    assert result.exit_code == 0 and "licence_forged" in result.output and "严重" in result.output


def test_a_malformed_catalogue_names_file_and_key_and_records_nothing(app, est, tmp_path, monkeypatch):
    path = tmp_path / "dishonesty_catalogue" / "default" / "2026-01-01.toml"
    path.parent.mkdir(parents=True)
    path.write_text('title = "目录"\n[entries.x1]\nname = "某行为"\nseverity = "fatal"\nlegal_basis = "某法"\n',
                    encoding="utf-8")
    monkeypatch.setitem(app.config, "POLICY_DIR", str(tmp_path))
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        records.record(db.session, ACTOR, fact(est, kind="dishonesty", code="x1", severity=None),
                       policies=Policies.current(db.session))
    assert str(path) in caught.value.message and "entries.x1.severity" in caught.value.message
    assert counts() == before


def test_a_jurisdiction_catalogue_applies_from_its_date(app, est, tmp_path):
    path = tmp_path / "dishonesty_catalogue" / "320102" / "2026-06-01.toml"
    path.parent.mkdir(parents=True)
    path.write_text('title = "玄武区目录"\n[entries.noise]\nname = "噪声扰民"\nseverity = "minor"\nlegal_basis = "某法"\n',
                    encoding="utf-8")
    policies = Policies(db.session, [tmp_path])
    with pytest.raises(ValidationFailed):
        records.record(db.session, ACTOR, fact(est, kind="dishonesty", code="noise", severity=None,
                                               arose_on=date(2026, 6, 1), source_ref="a"), policies=Policies(db.session))
    row = records.record(db.session, ACTOR, fact(est, kind="dishonesty", code="noise", severity=None,
                                                 arose_on=date(2026, 6, 1), source_ref="b"), policies=policies)
    assert row.severity == "minor"
    with pytest.raises(ValidationFailed):
        records.record(db.session, ACTOR, fact(est, kind="dishonesty", code="noise", severity=None,
                                               arose_on=date(2026, 5, 31), source_ref="c"), policies=policies)


def test_late_command_json(runner, est):
    _entered(est, date(2026, 1, 31), date(2026, 3, 2))
    db.session.commit()
    result = runner.invoke(args=["credit", "late", "--year", "2026", "--json"])
    import json

    [group] = json.loads(result.output)
    assert group["unit"] == "320102" and group["count"] == 1 and group["records"][0]["days_late"] == 2
