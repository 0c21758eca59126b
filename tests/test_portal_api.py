"""The establishments' own JSON API (/api/v1/portal, issue 19): tokens, the forced password
change, lockout, sign-out, my rating, records, objections with evidence, repair, reports, and
isolation between establishments (refused and audited) — all through HTTP."""
from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.credit.lifecycle_models import Objection
from supervision.extensions import db
from tests import factories
from tests.credit_factory import record
from tests.lifecycle_support import penalty as decided_penalty
from tests.public_support import token_of as plate_token_of
from tests.test_portal_accounts import NEW_PASSWORD, issue, publish
from tests.test_portal_repair import EVIDENCE, approve

API = "/api/v1/portal"
PDF = b"%PDF-1.4\n% evidence\n"


def sign_in(client, login: str, password: str):
    return client.post(f"{API}/tokens", json={"login": login, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ready(client, runner, establishment) -> dict:
    """Issue the account, take a token and replace the initial password; the token's headers."""
    password = issue(runner, establishment.credit_code)
    token = sign_in(client, establishment.credit_code, password).get_json()["token"]
    changed = client.post(f"{API}/password", headers=bearer(token),
                          json={"current": password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert changed.status_code == 200, changed.get_json()
    return bearer(token)


def refusals() -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars())


@pytest.fixture
def est(app):
    factories.jurisdiction()
    return factories.establishment()


@pytest.fixture
def other(field):
    return factories.establishment(name="别家宾馆", legal_representative="李四")


def test_a_new_account_must_change_its_password_before_anything_else(client, runner, est):
    password = issue(runner, est.credit_code)
    answer = sign_in(client, est.credit_code, password)
    assert answer.status_code == 201 and answer.get_json()["must_change_password"] is True
    headers = bearer(answer.get_json()["token"])
    blocked = client.get(f"{API}/establishments", headers=headers)
    assert blocked.status_code == 403 and blocked.get_json()["error"]["code"] == "password_change_required"
    assert client.post(f"{API}/password", headers=headers,
                       json={"current": password, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}).status_code == 200
    listed = client.get(f"{API}/establishments", headers=headers).get_json()["establishments"]
    assert [(e["id"], e["credit_code"]) for e in listed] == [(est.id, est.credit_code)]


def test_a_short_new_password_is_refused_with_field_messages(client, runner, est):
    password = issue(runner, est.credit_code)
    headers = bearer(sign_in(client, est.credit_code, password).get_json()["token"])
    answer = client.post(f"{API}/password", headers=headers, json={"current": password, "new": "short", "repeat": "short"})
    assert answer.status_code == 422 and "new" in answer.get_json()["error"]["fields"]


def test_wrong_passwords_lock_the_account(client, runner, est):
    issue(runner, est.credit_code)
    for _ in range(5):
        wrong = sign_in(client, est.credit_code, "not-the-password")
    assert wrong.status_code == 401 and "锁定" in wrong.get_json()["error"]["message"]
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "account.lock")).scalar_one()


def test_without_a_token_nothing_is_served(client, est):
    answer = client.get(f"{API}/establishments/{est.id}/records")
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "invalid_token"


def test_signing_out_ends_the_token_on_the_server(client, runner, est):
    headers = ready(client, runner, est)
    assert client.delete(f"{API}/tokens/current", headers=headers).status_code == 200
    assert client.get(f"{API}/establishments", headers=headers).status_code == 401


def test_a_supervisors_reset_ends_every_token(client, runner, est):
    headers = ready(client, runner, est)
    assert runner.invoke(args=["accounts", "reset", est.credit_code]).exit_code == 0
    assert client.get(f"{API}/establishments", headers=headers).status_code == 401


def test_a_portal_cookie_is_not_a_token(client, runner, est):
    from tests.test_portal_accounts import ready as ready_pages

    ready_pages(client, runner, est)
    cookie = client.get_cookie("session").value
    assert client.get(f"{API}/establishments", headers=bearer(cookie)).status_code == 401


def test_my_rating_explains_every_counting_record(client, runner, est):
    record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 4, 1), title="罚款五千元")
    publish(2025)
    headers = ready(client, runner, est)
    rating = client.get(f"{API}/establishments/{est.id}/rating", headers=headers).get_json()
    assert (rating["graded"], rating["grade"], rating["score"], rating["year"]) == (True, "C", 75, 2025)
    assert rating["next_better"]["grade"] == "B" and rating["points_missing"] == rating["next_better"]["lowest_score"] - 75
    [counted] = rating["counting_records"]
    assert (counted["title"], counted["points"]) == ("罚款五千元", -15) and counted["last_counted_year"]
    assert rating["history"] == [{"year": 2025, "grade": "C", "score": 75}]


def test_records_carry_status_and_publicity(client, runner, est):
    record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2026, 4, 1), title="罚款五千元")
    db.session.commit()
    headers = ready(client, runner, est)
    body = client.get(f"{API}/establishments/{est.id}/records", headers=headers).get_json()
    [row] = body["records"]
    assert (row["title"], row["status"]) == ("罚款五千元", "effective") and "public_until" in row["publicity"]


def test_an_objection_with_evidence_marks_the_plate_page_and_the_file_is_served_to_its_owner(client, runner, field):
    fined, _ = decided_penalty(field.establishment, decided_on=date(2026, 1, 10))
    db.session.commit()
    headers = ready(client, runner, field.establishment)
    raised = client.post(f"{API}/credit-records/{fined.id}/objections", headers=headers, json={"reason": "处罚已被复议撤销"})
    assert raised.status_code == 201, raised.get_json()
    objection = raised.get_json()
    assert objection["status"] == "open" and objection["deadline"]
    url = f"{API}/objections/{objection['id']}/evidence"
    held = client.post(url, headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(PDF), "复议决定.pdf")})
    assert held.status_code == 201
    [evidence] = held.get_json()["evidence"]
    download = client.get(f"{url}/{evidence['id']}", headers=headers)
    assert download.status_code == 200 and download.data == PDF
    download.close()
    plate = client.get(f"/P/{plate_token_of(field.establishment)}").get_data(as_text=True)
    assert "复核中" in plate


def test_anothers_records_objections_and_files_are_refused_and_audited(client, runner, field, other):
    fined, _ = decided_penalty(field.establishment, decided_on=date(2026, 1, 10))
    db.session.commit()
    owner = ready(client, runner, field.establishment)
    objection_id = client.post(f"{API}/credit-records/{fined.id}/objections", headers=owner,
                               json={"reason": "处罚已被复议撤销"}).get_json()["id"]
    client.post(f"{API}/objections/{objection_id}/evidence", headers=owner, content_type="multipart/form-data",
                data={"file": (io.BytesIO(PDF), "复议决定.pdf")})
    stranger = ready(client, runner, other)
    attempts = [
        client.get(f"{API}/establishments/{field.establishment.id}/records", headers=stranger),
        client.get(f"{API}/establishments/{field.establishment.id}/rating", headers=stranger),
        client.get(f"{API}/establishments/{field.establishment.id}/report.pdf", headers=stranger),
        client.post(f"{API}/credit-records/{fined.id}/objections", headers=stranger, json={"reason": "冒名异议"}),
        client.get(f"{API}/objections/{objection_id}", headers=stranger),
        client.get(f"{API}/objections/{objection_id}/evidence/1", headers=stranger),
        client.post(f"{API}/credit-records/{fined.id}/repairs", headers=stranger, json={"evidence": EVIDENCE}),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert all(a.get_json()["error"]["code"] == "forbidden" for a in attempts)
    assert len(refusals()) == len(attempts)
    assert db.session.execute(select(Objection)).scalar_one().reason == "处罚已被复议撤销"


def test_an_approved_repair_removes_the_record_from_the_plate_page(client, runner, field):
    fined, p = decided_penalty(field.establishment, decided_on=date(2026, 1, 10), fulfilled_on=date(2026, 2, 1))
    db.session.commit()
    headers = ready(client, runner, field.establishment)
    eligibility = client.get(f"{API}/credit-records/{fined.id}/repair-eligibility", headers=headers).get_json()
    assert "eligible" in eligibility and "eligible_from" in eligibility
    applied = client.post(f"{API}/credit-records/{fined.id}/repairs", headers=headers, json={"evidence": EVIDENCE})
    assert applied.status_code == 201, applied.get_json()
    repair_id = applied.get_json()["id"]
    assert client.get(f"{API}/repairs/{repair_id}/notice.pdf", headers=headers).status_code == 409
    approve(repair_id)
    progress = client.get(f"{API}/repairs/{repair_id}", headers=headers).get_json()
    assert progress["status"] == "approved" and progress["notice_no"]
    notice = client.get(f"{API}/repairs/{repair_id}/notice.pdf", headers=headers)
    assert notice.status_code == 200 and notice.data.startswith(b"%PDF")
    plate = client.get(f"/P/{plate_token_of(field.establishment)}").get_data(as_text=True)
    assert p.decision_no not in plate


def test_a_repair_without_the_required_evidence_is_refused_and_nothing_is_stored(client, runner, field):
    from supervision.credit.lifecycle_models import RepairApplication

    fined, _ = decided_penalty(field.establishment, decided_on=date(2026, 1, 10), fulfilled_on=date(2026, 2, 1))
    db.session.commit()
    headers = ready(client, runner, field.establishment)
    answer = client.post(f"{API}/credit-records/{fined.id}/repairs", headers=headers, json={"evidence": {}})
    assert answer.status_code in (409, 422)
    assert db.session.execute(select(RepairApplication)).first() is None


def test_my_credit_report_downloads_as_pdf(client, runner, est):
    headers = ready(client, runner, est)
    report = client.get(f"{API}/establishments/{est.id}/report.pdf", headers=headers)
    assert report.status_code == 200 and report.data.startswith(b"%PDF") and report.mimetype == "application/pdf"
