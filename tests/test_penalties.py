"""Penalty decisions from penalty cases, their validation, fulfilment and listing."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from supervision.credit.calendar import china_today
from supervision.credit.models import CreditRecord, Penalty
from supervision.extensions import db
from supervision.inspections.models import PenaltyCase
from tests.credit_support import counts

URL = "/api/v1/inspections"
TODAY = china_today()


def open_case(client, field) -> int:
    body = field.submission(answers=[{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "pass"},
                                     {"item_code": "T03", "number": 0.05}])
    result = client.post(URL, json=body, headers=field.headers).get_json()
    response = client.post(f"{URL}/{body['uuid']}/penalty-cases", headers=field.headers,
                           json={"finding_ids": [result["findings"][0]["id"]], "summary": "无证经营"})
    assert response.status_code == 201
    return response.get_json()["id"]


def decide(runner, case_id, *extra, number="玄卫罚〔2026〕1号", on=None, type_="fine", procedure="general",
           amount="5000"):
    args = ["penalties", "decide", str(case_id), "--decision-no", number, "--on", (on or TODAY).isoformat(),
            "--type", type_, "--procedure", procedure, "--legal-basis", "《公共场所卫生管理条例》第十四条",
            "--by", "张科长"]
    if amount is not None:
        args += ["--amount", amount]
    return runner.invoke(args=args + list(extra))


@pytest.fixture
def case_id(client, field):
    return open_case(client, field)


def test_a_decision_records_the_penalty_its_credit_record_and_closes_the_case(runner, field, case_id):
    result = decide(runner, case_id)
    assert result.exit_code == 0, result.output
    penalty = db.session.execute(select(Penalty)).scalar_one()
    record = db.session.get(CreditRecord, penalty.credit_record_id)
    assert (penalty.penalty_type, penalty.amount_fen, penalty.procedure, penalty.decided_by) == (
        "fine", 500000, "general", "张科长")
    assert (record.kind, record.code, record.severity, record.source_type) == ("penalty", "fine", "general", "penalty")
    assert record.subject_id == field.establishment.subject_id and "5,000.00 元" in record.title
    assert db.session.get(PenaltyCase, case_id).status == "decided"


def test_a_serious_penalty_is_a_serious_record(runner, case_id):
    assert decide(runner, case_id, "--serious", type_="suspension", amount=None).exit_code == 0
    assert db.session.execute(select(CreditRecord.severity).where(CreditRecord.kind == "penalty")).scalar_one() == "serious"


@pytest.mark.parametrize("kwargs, field_name", [
    ({"type_": "warning", "amount": "100"}, "amount"),
    ({"type_": "fine", "amount": None}, "amount"),
    ({"type_": "fine", "amount": "-5"}, "amount"),
    ({"type_": "suspension", "amount": None, "procedure": "simple"}, "procedure"),
    ({"type_": "fine", "amount": "3000.01", "procedure": "simple"}, "procedure"),
    ({"on": TODAY + timedelta(days=1)}, "decided_on"),
    ({"on": TODAY - timedelta(days=1)}, "decided_on"),  # before the case was opened (today)
])
def test_a_bad_decision_is_refused_and_changes_nothing(runner, case_id, kwargs, field_name):
    before = counts()
    result = decide(runner, case_id, **kwargs)
    assert result.exit_code == 1 and field_name in result.output
    assert counts() == before
    assert db.session.get(PenaltyCase, case_id).status == "opened"


def test_a_serious_penalty_in_the_simple_procedure_is_refused(runner, case_id):
    result = decide(runner, case_id, "--serious", type_="warning", amount=None, procedure="simple")
    assert result.exit_code == 1 and "serious" in result.output


def test_a_case_is_decided_once(runner, case_id):
    decide(runner, case_id)
    result = decide(runner, case_id, number="玄卫罚〔2026〕2号")
    assert result.exit_code == 1 and "已作出处罚决定" in result.output


def test_a_decision_number_is_unique_per_issuing_unit(runner, client, field, case_id):
    other_case = open_case(client, field)
    decide(runner, case_id)
    assert decide(runner, other_case).exit_code == 1
    result = decide(runner, other_case, "--issuer", "320100")  # same number, the city's unit
    assert result.exit_code == 0, result.output


def test_fulfilment_is_recorded_once_and_not_before_the_decision(runner, case_id):
    decide(runner, case_id)
    args = ["penalties", "fulfil", "玄卫罚〔2026〕1号", "--issuer", "320102"]
    assert runner.invoke(args=args + ["--on", (TODAY - timedelta(days=1)).isoformat()]).exit_code == 1
    assert runner.invoke(args=args + ["--on", TODAY.isoformat(), "--by", "张科长"]).exit_code == 0
    assert db.session.execute(select(Penalty.fulfilled_on)).scalar_one() == TODAY
    assert runner.invoke(args=args + ["--on", TODAY.isoformat()]).exit_code == 1


def test_fulfilling_an_unknown_decision_is_refused(runner, field):
    result = runner.invoke(args=["penalties", "fulfil", "无此文号", "--issuer", "320102", "--on", "2026-01-01"])
    assert result.exit_code == 1 and "不存在" in result.output


def test_list_shows_penalties_with_their_publicity(runner, field, case_id):
    decide(runner, case_id)
    result = runner.invoke(args=["penalties", "list", field.establishment.credit_code])
    assert result.exit_code == 0 and "玄卫罚〔2026〕1号" in result.output and "公示中" in result.output
    later = runner.invoke(args=["penalties", "list", field.establishment.credit_code, "--on",
                                (TODAY + timedelta(days=400)).isoformat()])
    assert "公示期已满" in later.output


def test_a_simple_procedure_penalty_is_not_published(runner, field, case_id):
    decide(runner, case_id, type_="warning", amount=None, procedure="simple")
    result = runner.invoke(args=["penalties", "list", field.establishment.credit_code])
    assert "不予公示" in result.output
