"""The credit lifecycle through the JSON API: objections, repair, lists, measures, warnings."""
from datetime import date

import pytest
from sqlalchemy import select

from supervision.credit.lifecycle_models import ListEntry
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from tests import credit_factory as credit
from tests.lifecycle_support import penalty

API = "/api/v1"


@pytest.fixture
def fined(field):
    record, _ = penalty(field.establishment, decided_on=date(2026, 1, 10), fulfilled_on=date(2026, 2, 1))
    db.session.commit()
    return record


def records_of(client, field):
    url = f"{API}/establishments/{field.establishment.id}/credit-records?on=2026-06-01"
    return {r["id"]: r for r in client.get(url, headers=field.headers).get_json()["records"]}


def test_an_objection_marks_and_its_decision_unmarks_the_record(client, field, fined):
    response = client.post(f"{API}/credit-records/{fined.id}/objections", headers=field.headers,
                           json={"establishment_id": field.establishment.id, "reason": "处罚已被复议撤销"})
    assert response.status_code == 201, response.get_json()
    objection = response.get_json()
    assert objection["status"] == "open" and (objection["deadline"] or objection["deadline_flag"])
    assert records_of(client, field)[fined.id]["publicity"]["under_review"] is True
    decided = client.post(f"{API}/objections/{objection['id']}/decision", headers=field.headers,
                          json={"decision": "rejected", "reason": "复议维持", "by": "李所长"})
    assert decided.status_code == 200 and decided.get_json()["status"] == "rejected"
    assert records_of(client, field)[fined.id]["publicity"]["under_review"] is False
    again = client.post(f"{API}/objections/{objection['id']}/decision", headers=field.headers,
                        json={"decision": "rejected", "reason": "复议维持", "by": "李所长"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"


@pytest.mark.parametrize("body", [{"reason": "x"}, {"establishment_id": 1, "reason": ""},
                                  {"establishment_id": 1, "reason": "x", "extra": 1}])
def test_a_bad_objection_is_refused_and_writes_nothing(client, field, fined, body):
    response = client.post(f"{API}/credit-records/{fined.id}/objections", headers=field.headers, json=body)
    assert response.status_code == 422
    assert db.session.get(CreditRecord, fined.id).status == "effective"


def test_an_objection_to_another_establishment_s_record_is_refused(client, field, fined):
    response = client.post(f"{API}/credit-records/{fined.id}/objections", headers=field.headers,
                           json={"establishment_id": field.other_establishment.id, "reason": "x"})
    assert response.status_code == 422 and "establishment_id" in response.get_json()["error"]["fields"]


def test_an_unknown_record_is_404(client, field):
    response = client.post(f"{API}/credit-records/99999/objections", headers=field.headers,
                           json={"establishment_id": field.establishment.id, "reason": "x"})
    assert response.status_code == 404


def test_repair_through_the_api_ends_publicity_and_issues_the_notice(client, field, fined):
    check = client.get(f"{API}/credit-records/{fined.id}/repair-eligibility?fulfilment=凭证", headers=field.headers)
    answer = check.get_json()
    assert check.status_code == 200 and not answer["eligible"] and answer["missing_evidence"] == ["commitment", "training"]
    evidence = {"fulfilment": "缴款凭证", "commitment": "承诺书", "training": "培训证明"}
    applied = client.post(f"{API}/credit-records/{fined.id}/repairs", headers=field.headers,
                          json={"establishment_id": field.establishment.id, "evidence": evidence})
    assert applied.status_code == 201, applied.get_json()
    repair_id = applied.get_json()["id"]
    assert client.get(f"{API}/repairs/{repair_id}/notice.pdf", headers=field.headers).status_code == 409
    approved = client.post(f"{API}/repairs/{repair_id}/decision", headers=field.headers,
                           json={"decision": "approved", "by": "李所长"})
    assert approved.status_code == 200 and approved.get_json()["notice_no"].startswith("XYXF-")
    assert records_of(client, field)[fined.id]["publicity"]["public"] is False
    pdf = client.get(f"{API}/repairs/{repair_id}/notice.pdf", headers=field.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    html = client.get(f"{API}/repairs/{repair_id}/notice.html", headers=field.headers)
    assert html.status_code == 200 and field.establishment.name in html.get_data(as_text=True)


def test_an_ineligible_repair_is_409_with_the_reasons(client, field):
    record, _ = penalty(field.establishment, decided_on=date(2026, 1, 10))
    db.session.commit()
    response = client.post(f"{API}/credit-records/{record.id}/repairs", headers=field.headers,
                           json={"establishment_id": field.establishment.id,
                                 "evidence": {"fulfilment": "a", "commitment": "b", "training": "c"}})
    assert response.status_code == 409 and "尚未履行完毕" in response.get_json()["error"]["message"]


def test_memberships_and_measures_of_a_blacklisted_establishment(client, field):
    est = field.establishment
    db.session.add(ListEntry(list_name="blacklist", subject_id=est.subject_id, establishment_id=est.id,
                             rule_key="grade", reason="E", status="entered", notified_on=date(2026, 1, 1),
                             objection_until=date(2026, 1, 15), entered_on=date(2026, 1, 16),
                             expires_on=date(2029, 1, 16)))
    db.session.commit()
    lists = client.get(f"{API}/establishments/{est.id}/credit-lists?on=2026-06-01", headers=field.headers).get_json()
    assert [e["list_name"] for e in lists["lists"]] == ["blacklist"]
    measures = client.get(f"{API}/establishments/{est.id}/credit-measures?on=2026-06-01",
                          headers=field.headers).get_json()["measures"]
    [joint] = [m for m in measures if m["key"] == "blacklist_joint_punishment"]
    assert "blacklist" in joint["because"]


def test_warnings_of_the_device_s_jurisdiction(client, field):
    credit.record(field.establishment.subject_id, "adverse", code="complaint_substantiated", severity="general",
                  arose_on=date(2026, 5, 1))
    db.session.commit()
    body = client.get(f"{API}/credit-warnings?on=2026-06-01", headers=field.headers).get_json()
    assert [(w["establishment_id"], [r["rule"] for r in w["reasons"]]) for w in body["warnings"]] == [
        (field.establishment.id, ["complaints"])]


def open_objection(client, field, record_id) -> int:
    response = client.post(f"{API}/credit-records/{record_id}/objections", headers=field.headers,
                           json={"establishment_id": field.establishment.id, "reason": "处罚已被复议撤销"})
    return response.get_json()["id"]


def test_evidence_is_attached_by_multipart_and_checked_by_signature(client, field, fined):
    import io

    objection_id = open_objection(client, field, fined.id)
    url = f"{API}/objections/{objection_id}/evidence"
    fake = client.post(url, headers=field.headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"<html>not a pdf"), "复议决定.pdf")})
    assert fake.status_code == 422
    good = client.post(url, headers=field.headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.4\n%evidence\n"), "复议决定.pdf")})
    assert good.status_code == 201, good.get_json()
    [held] = good.get_json()["evidence"]
    assert (held["filename"], held["media_type"]) == ("复议决定.pdf", "application/pdf")
    as_json = client.post(url, headers=field.headers, json={"file": "x"})
    assert as_json.status_code in (415, 422)


def test_evidence_is_downloaded_by_the_jurisdictions_devices_only(client, field, fined):
    import io

    objection_id = open_objection(client, field, fined.id)
    url = f"{API}/objections/{objection_id}/evidence"
    held = client.post(url, headers=field.headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.4\n%evidence\n"), "复议决定.pdf")}).get_json()["evidence"][0]
    download = client.get(f"{url}/{held['id']}", headers=field.headers)
    assert download.status_code == 200 and download.data == b"%PDF-1.4\n%evidence\n"
    assert download.mimetype == "application/pdf" and "attachment" in download.headers["Content-Disposition"]
    download.close()
    assert client.get(f"{url}/{held['id'] + 1}", headers=field.headers).status_code == 404
    assert client.get(f"{url}/{held['id']}").status_code == 401
