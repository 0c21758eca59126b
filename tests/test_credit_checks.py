"""Credit checks by other departments: API keys (CLI), the check endpoint, its log and its limit."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from supervision.credit.calendar import china_today
from supervision.credit.grading import approve, publish, run_grading
from supervision.departments.models import CreditCheck, DepartmentKey
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories


def issue_key(runner, name="南京市市场监督管理局") -> tuple[int, str]:
    assert runner.invoke(args=["departments", "add", name]).exit_code == 0
    result = runner.invoke(args=["departments", "key", "issue", name])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    key_id = int(result.output.split()[1])
    return key_id, key


@pytest.fixture
def est():
    factories.jurisdiction()
    establishment = factories.establishment()
    recent = china_today() - timedelta(days=20)
    credit.record(establishment.subject_id, "penalty", code="fine", severity="general", arose_on=recent, title="罚款")
    credit.record(establishment.subject_id, "penalty", code="fine", severity="general", arose_on=recent,
                  title="已撤销", status="revoked")
    run = run_grading(db.session, factories.ACTOR, year=2025, now=datetime(2026, 1, 20)).run
    approve(db.session, factories.ACTOR, run.id, by="张主任")
    publish(db.session, factories.ACTOR, run.id, by="李所长")
    db.session.commit()
    return establishment


def test_a_department_checks_published_facts_by_credit_code(runner, client, est):
    _, key = issue_key(runner)
    response = client.get(f"/api/v1/credit-check/{est.credit_code}", headers={"Authorization": f"ApiKey {key}"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == {"credit_code": est.credit_code, "name": est.name, "grade": "B", "grade_year": 2025, "lists": [],
                    "public_penalties": 1, "on": china_today().isoformat()}


def test_the_key_also_works_as_x_api_key_and_every_check_is_logged(runner, client, est):
    key_id, key = issue_key(runner)
    assert client.get(f"/api/v1/credit-check/{est.credit_code}", headers={"X-Api-Key": key}).status_code == 200
    unknown = factories.valid_credit_code()
    missing = client.get(f"/api/v1/credit-check/{unknown}", headers={"X-Api-Key": key})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    log = db.session.query(CreditCheck).order_by(CreditCheck.id).all()
    assert [(c.key_id, c.credit_code, c.result, c.grade) for c in log] == [
        (key_id, est.credit_code, "found", "B"), (key_id, unknown, "not_found", None)]


def test_keys_are_stored_only_as_hashes(runner):
    key_id, key = issue_key(runner)
    row = db.session.get(DepartmentKey, key_id)
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64 and key.startswith(row.prefix)


def test_a_bad_key_is_refused_with_401_in_the_error_shape(runner, client, est):
    issue_key(runner)
    for headers in ({}, {"X-Api-Key": "hsk_wrong"}, {"Authorization": "ApiKey "}, {"Authorization": "Bearer x"}):
        response = client.get(f"/api/v1/credit-check/{est.credit_code}", headers=headers)
        assert response.status_code == 401, headers
        assert response.get_json()["error"]["code"] == "unauthenticated"
    assert db.session.query(CreditCheck).count() == 0


def test_a_revoked_key_is_refused(runner, client, est):
    key_id, key = issue_key(runner)
    assert client.get(f"/api/v1/credit-check/{est.credit_code}", headers={"X-Api-Key": key}).status_code == 200
    result = runner.invoke(args=["departments", "key", "revoke", str(key_id)])
    assert result.exit_code == 0, result.output
    response = client.get(f"/api/v1/credit-check/{est.credit_code}", headers={"X-Api-Key": key})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"
    again = runner.invoke(args=["departments", "key", "revoke", str(key_id)])
    assert again.exit_code == 1 and "已" in again.output


def test_issuing_a_key_for_an_unknown_department_fails(runner):
    result = runner.invoke(args=["departments", "key", "issue", "不存在的部门"])
    assert result.exit_code == 1 and "不存在" in result.output


def test_over_the_limit_is_429_with_retry_after(app, runner, client, est, monkeypatch):
    monkeypatch.setitem(app.config, "CREDIT_CHECK_RATE_LIMIT", "2 per minute")
    _, key = issue_key(runner)
    _, other = issue_key(runner, "南京市教育局")
    url = f"/api/v1/credit-check/{est.credit_code}"
    assert [client.get(url, headers={"X-Api-Key": key}).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url, headers={"X-Api-Key": key})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get(url, headers={"X-Api-Key": other}).status_code == 200  # limits are per key


def test_the_check_log_is_append_only(runner, client, est):
    _, key = issue_key(runner)
    client.get(f"/api/v1/credit-check/{est.credit_code}", headers={"X-Api-Key": key})
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE credit_checks SET result = 'x'"))
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("DELETE FROM credit_checks"))
