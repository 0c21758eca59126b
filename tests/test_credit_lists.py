"""Red list and blacklist: notice, objection window, entry, exit; the grading rule and measures
that read them; the yearly commendation."""
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from supervision.credit import lists
from supervision.credit.events import CreditEvent
from supervision.credit.grading.lists import members
from supervision.credit.grading.current import current_grade
from supervision.credit.lifecycle_models import ListEntry
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories
from tests.lifecycle_support import establishment, ok, publish_year


@pytest.fixture
def star(app):
    """A in 2024 and 2025 (base 90 + a commendation 5, counted two years)."""
    est = establishment(name="玄武区模范酒店")
    credit.record(est.subject_id, "positive", code="commendation", arose_on=date(2024, 3, 1), title="市级表彰")
    return est


def test_an_establishment_enters_the_red_list_only_after_the_objection_window(runner, star):
    publish_year(runner, 2024)
    publish_year(runner, 2025)
    assert "新告知 1 家" in ok(runner, "lists", "evaluate", "--on", "2026-03-02")
    entry = db.session.execute(select(ListEntry)).scalar_one()
    assert (entry.list_name, entry.status, entry.objection_until) == ("redlist", "notified", date(2026, 3, 16))
    assert "2024–2025 年度连续 2 年信用等级为 A" in entry.reason
    ok(runner, "lists", "advance", "--on", "2026-03-16")  # the window's last day: still open
    assert list(members(db.session, "redlist", date(2026, 3, 16))) == []
    assert "列入 1 家" in ok(runner, "lists", "advance", "--on", "2026-03-17")
    db.session.refresh(entry)
    assert (entry.status, entry.entered_on, entry.expires_on) == ("entered", date(2026, 3, 17), date(2028, 3, 17))
    assert list(members(db.session, "redlist", date(2026, 3, 17))) == [star.subject_id]
    assert [m.id for m in lists.memberships(db.session, star.subject_id, date(2026, 6, 1))] == [entry.id]
    event = db.session.execute(select(CreditEvent).where(CreditEvent.event_type == "list.entered")).scalar_one()
    assert event.payload["credit_code"] == star.credit_code and event.payload["list"] == "redlist"
    assert "新告知 0 家" in ok(runner, "lists", "evaluate", "--on", "2026-03-18")  # already on it


def test_a_single_a_year_is_not_enough(runner, star):
    publish_year(runner, 2025)  # no 2024 publication
    assert "新告知 0 家" in ok(runner, "lists", "evaluate", "--on", "2026-03-02")


def test_an_entry_exits_when_its_period_elapses(runner, star):
    publish_year(runner, 2024)
    publish_year(runner, 2025)
    ok(runner, "lists", "evaluate", "--on", "2026-03-02")
    ok(runner, "lists", "advance", "--on", "2026-03-17")
    assert "移出 0 家" in ok(runner, "lists", "advance", "--on", "2028-03-16")
    assert "移出 1 家" in ok(runner, "lists", "advance", "--on", "2028-03-17")
    entry = db.session.execute(select(ListEntry)).scalar_one()
    assert (entry.status, entry.exited_on, entry.exit_reason) == ("exited", date(2028, 3, 17), "名单期限届满")
    assert list(members(db.session, "redlist", date(2028, 3, 17))) == []
    assert list(members(db.session, "redlist", date(2027, 1, 1))) == [star.subject_id]  # history stays true
    assert db.session.execute(select(CreditEvent).where(CreditEvent.event_type == "list.exited")).first()


def test_a_withdrawn_notice_never_enters(runner, star):
    publish_year(runner, 2024)
    publish_year(runner, 2025)
    ok(runner, "lists", "evaluate", "--on", "2026-03-02")
    entry = db.session.execute(select(ListEntry)).scalar_one()
    ok(runner, "lists", "withdraw", entry.id, "--reason", "异议成立", "--by", "李所长")
    ok(runner, "lists", "advance", "--on", "2026-04-01")
    db.session.refresh(entry)
    assert entry.status == "withdrawn" and entry.entered_on is None


def test_serious_dishonesty_leads_to_the_blacklist(runner, app):
    est = establishment()
    credit.record(est.subject_id, "dishonesty", code="false_materials", severity="serious", arose_on=date(2026, 2, 1))
    ok(runner, "lists", "evaluate", "--on", "2026-03-02")
    entry = db.session.execute(select(ListEntry)).scalar_one()
    assert (entry.list_name, entry.rule_key, entry.cause_record_id is not None) == ("blacklist", "serious_dishonesty", True)


def test_a_blacklisted_establishment_is_graded_e_and_matched_to_its_measures(runner, app):
    est = establishment()
    db.session.add(ListEntry(list_name="blacklist", subject_id=est.subject_id, establishment_id=est.id,
                             rule_key="grade", reason="E", status="entered", notified_on=date(2026, 1, 1),
                             objection_until=date(2026, 1, 15), entered_on=date(2026, 1, 16),
                             expires_on=date(2029, 1, 16)))
    db.session.flush()
    publish_year(runner, 2026)
    grade = current_grade(db.session, est.subject_id)
    assert grade.grade == "E"
    out = ok(runner, "credit", "measures", est.credit_code, "--on", "2026-06-01")
    assert "实施联合惩戒" in out and "列入名单 blacklist" in out


def test_the_yearly_commendation_lists_the_a_grades(runner, star, tmp_path):
    establishment(name="普通宾馆", credit_code=factories.valid_credit_code())
    publish_year(runner, 2025)
    out = ok(runner, "lists", "commendation", "--year", "2025")
    assert "1 家" in out and "玄武区模范酒店" in out and "普通宾馆" not in out
    xlsx = tmp_path / "表扬.xlsx"
    ok(runner, "lists", "commendation", "--year", "2025", "--out", xlsx)
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("统一社会信用代码", "单位名称") and rows[1][:2] == (star.credit_code, "玄武区模范酒店")
    csv_file = tmp_path / "表扬.csv"
    ok(runner, "lists", "commendation", "--year", "2025", "--out", csv_file)
    assert "玄武区模范酒店" in csv_file.read_text(encoding="utf-8-sig")
