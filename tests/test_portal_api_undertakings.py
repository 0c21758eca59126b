"""The establishments' undertakings through the portal JSON API (issue 19): the commitment
letter signed by the legal representative and unchangeable, and self-inspections against the
inspectors' checklist; another establishment's refused and audited."""
from __future__ import annotations

from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.commitments.models import CommitmentLetter
from supervision.credit.calendar import china_today
from supervision.extensions import db
from supervision.self_inspections.models import SelfInspection
from tests import factories
from tests.test_portal_api import API, ready

ANSWERS = [{"item_code": "T01", "result": "pass"}, {"item_code": "T02", "result": "fail"},
           {"item_code": "T03", "number": 0.05}]


def test_the_legal_representative_signs_the_letter_once_per_version(client, runner, field):
    headers = ready(client, runner, field.establishment)
    url = f"{API}/establishments/{field.establishment.id}/commitment"
    shown = client.get(url, headers=headers).get_json()
    assert shown["needs_signature"] and shown["signed"] is None and field.establishment.name in shown["letter"]["text"]
    body = {"signer_name": "王建国", "pledge": True, "text_sha256": shown["letter"]["text_sha256"]}
    signed = client.post(url, headers=headers, json=body)
    assert signed.status_code == 201, signed.get_json()
    assert signed.get_json()["text_sha256"] == shown["letter"]["text_sha256"]
    assert client.get(url, headers=headers).get_json()["needs_signature"] is False
    again = client.post(url, headers=headers, json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_signed"
    assert len(db.session.execute(select(CommitmentLetter)).all()) == 1


def test_a_wrong_name_a_missing_pledge_or_a_stale_text_is_refused(client, runner, field):
    headers = ready(client, runner, field.establishment)
    url = f"{API}/establishments/{field.establishment.id}/commitment"
    digest = client.get(url, headers=headers).get_json()["letter"]["text_sha256"]
    wrong_name = client.post(url, headers=headers, json={"signer_name": "张三", "pledge": True, "text_sha256": digest})
    assert wrong_name.status_code == 422 and "signer_name" in wrong_name.get_json()["error"]["fields"]
    no_pledge = client.post(url, headers=headers, json={"signer_name": "王建国", "pledge": False, "text_sha256": digest})
    assert no_pledge.status_code == 422 and "pledge" in no_pledge.get_json()["error"]["fields"]
    stale = client.post(url, headers=headers, json={"signer_name": "王建国", "pledge": True, "text_sha256": "0" * 64})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "letter_changed"
    assert db.session.execute(select(CommitmentLetter)).first() is None


def test_a_self_inspection_answers_the_categorys_checklist_with_corrections(client, runner, field):
    headers = ready(client, runner, field.establishment)
    base = f"{API}/establishments/{field.establishment.id}"
    [version] = client.get(f"{base}/checklists", headers=headers).get_json()["checklist_versions"]
    assert version["id"] == field.version.id
    missing = client.post(f"{base}/self-inspections", headers=headers,
                          json={"checklist_version_id": version["id"], "answers": ANSWERS})
    assert missing.status_code == 422 and "corrections.T02.measure" in missing.get_json()["error"]["fields"]
    assert db.session.execute(select(SelfInspection)).first() is None
    filed = client.post(f"{base}/self-inspections", headers=headers, json={
        "checklist_version_id": version["id"], "answers": ANSWERS,
        "corrections": {"T02": {"measure": "已组织从业人员补办健康证明", "completed_on": china_today().isoformat()}}})
    assert filed.status_code == 201, filed.get_json()
    assert filed.get_json()["corrections"]["T02"]["completed_on"] == china_today().isoformat()
    listed = client.get(f"{base}/self-inspections", headers=headers).get_json()["self_inspections"]
    assert [s["id"] for s in listed] == [filed.get_json()["id"]]


def test_anothers_letter_and_self_inspections_are_refused_and_audited(client, runner, field):
    other = factories.establishment(name="别家宾馆", legal_representative="李四")
    headers = ready(client, runner, other)
    base = f"{API}/establishments/{field.establishment.id}"
    attempts = [
        client.get(f"{base}/commitment", headers=headers),
        client.post(f"{base}/commitment", headers=headers, json={"signer_name": "王建国", "pledge": True,
                                                                  "text_sha256": "0" * 64}),
        client.get(f"{base}/self-inspections", headers=headers),
        client.post(f"{base}/self-inspections", headers=headers,
                    json={"checklist_version_id": field.version.id, "answers": ANSWERS}),
        client.get(f"{base}/self-reports", headers=headers),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars().all()
    assert len(refused) == len(attempts)
    assert db.session.execute(select(CommitmentLetter)).first() is None
