"""`supervision rectification overdue`: a missed rectification deadline becomes adverse credit
information, once, unless the re-inspection closed the order."""
from sqlalchemy import select

from supervision.credit.models import CreditRecord
from supervision.extensions import db

URL = "/api/v1/inspections"
FAILING = [{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "pass"},
           {"item_code": "T03", "number": 0.05}]


def issue_order(client, field) -> dict:
    body = field.submission(answers=FAILING)  # inspected 2026-11-20; critical item: 7 days
    order = client.post(URL, json=body, headers=field.headers).get_json()["rectification_order"]
    assert order["deadline"] == "2026-11-27"
    return order


def overdue(runner, on):
    result = runner.invoke(args=["rectification", "overdue", "--on", on])
    assert result.exit_code == 0, result.output
    return db.session.execute(select(CreditRecord).where(CreditRecord.kind == "adverse")).scalars().all()


def test_an_order_past_its_deadline_becomes_an_adverse_record_once(runner, client, field):
    order = issue_order(client, field)
    assert overdue(runner, "2026-11-27") == []  # the deadline day itself is still in time
    [record] = overdue(runner, "2026-11-28")
    assert (record.code, record.severity, record.source_ref) == ("rectification_overdue", "general", str(order["id"]))
    assert record.subject_id == field.establishment.subject_id and str(record.arose_on) == "2026-11-28"
    assert len(overdue(runner, "2026-11-29")) == 1  # idempotent: safe to run daily


def test_an_order_closed_by_its_reinspection_is_not_overdue(runner, client, field):
    order = issue_order(client, field)
    reinspection = field.submission(task_id=order["reinspection_task_id"], started_at="2026-11-26T09:00:00+08:00",
                                    ended_at="2026-11-26T09:30:00+08:00")
    assert client.post(URL, json=reinspection, headers=field.headers).status_code == 201
    assert overdue(runner, "2026-12-01") == []


def test_a_reinspection_that_finds_the_item_failing_again_does_not_close_it(runner, client, field):
    order = issue_order(client, field)
    reinspection = field.submission(task_id=order["reinspection_task_id"], answers=FAILING,
                                    started_at="2026-11-26T09:00:00+08:00", ended_at="2026-11-26T09:30:00+08:00")
    client.post(URL, json=reinspection, headers=field.headers)
    assert len(overdue(runner, "2026-12-01")) == 1


def test_a_superseded_order_is_not_overdue(runner, client, field):
    body = field.submission(answers=FAILING)
    client.post(URL, json=body, headers=field.headers)
    correction = field.submission(replaces=body["uuid"])
    assert client.post(URL, json=correction, headers=field.headers).status_code == 201
    assert overdue(runner, "2026-12-01") == []
