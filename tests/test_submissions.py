"""Inspection submissions from terminals: idempotency, validation, outcomes, corrections."""
import uuid as uuidlib
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from supervision.audit.models import AuditEntry
from supervision.checklists import service as checklists
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.inspections import tasks
from supervision.inspections.models import Answer, Finding, Inspection, ManifestEntry, RectificationOrder, Task
from tests import factories
from tests.terminal import CHECKLIST, upload

URL = "/api/v1/inspections"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_state() -> tuple:
    """Everything a refused submission must leave untouched."""
    return tuple(count(m) for m in (Inspection, Answer, ManifestEntry, Finding, RectificationOrder, Task, AuditEntry))


def submit(client, field, body):
    return client.post(URL, json=body, headers=field.headers)


def test_submission_is_stored_and_awaits_its_attachments(client, field):
    body = field.submission()
    response = submit(client, field, body)
    assert response.status_code == 201
    result = response.get_json()
    assert result["uuid"] == body["uuid"] and result["version"] == 1 and result["is_current"]
    assert result["status"] == "awaiting_attachments"
    assert {m["sha256"] for m in result["missing_attachments"]} == {a["sha256"] for a in body["attachments"]}
    assert result["inspectors"] == body["inspectors"]
    assert result["findings"] == [] and result["rectification_order"] is None


def test_times_are_stored_in_utc_with_the_device_offset_and_shown_in_china_time(client, field):
    body = field.submission(started_at="2026-11-20T08:30:00-05:00", ended_at="2026-11-20T09:00:00-05:00")
    result = submit(client, field, body).get_json()
    stored = db.session.get(Inspection, body["uuid"])
    assert stored.started_at == datetime(2026, 11, 20, 13, 30) and stored.started_offset_min == -300
    assert result["started_at"] == "2026-11-20T21:30:00+08:00"
    assert result["device_utc_offset"] == "-05:00"


def test_time_without_offset_is_refused(client, field):
    response = submit(client, field, field.submission(started_at="2026-11-20T09:30:00"))
    assert response.status_code == 422
    assert "started_at" in response.get_json()["error"]["fields"]


def test_same_uuid_and_content_again_gives_the_same_answer_and_stores_nothing_more(client, field):
    body = field.submission()
    first = submit(client, field, body)
    before = stored_state()
    again = submit(client, field, body)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert stored_state() == before


def test_same_uuid_with_different_content_is_a_conflict_and_changes_nothing(client, field):
    body = field.submission()
    submit(client, field, body)
    before = stored_state()
    changed = dict(body, notes="另一份内容")
    response = submit(client, field, changed)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "uuid_reused" and "不同内容" in error["message"]
    assert stored_state() == before
    assert db.session.get(Inspection, body["uuid"]).notes == body["notes"]


def _retire(field):
    checklists.retire(db.session, factories.ACTOR, CHECKLIST["code"], 1)
    db.session.commit()


def _expire_partner(field):
    field.partner.certificate_valid_until = date(2026, 11, 1)
    field.partner.certificate_valid_from = date(2020, 1, 1)
    db.session.commit()


REFUSALS = {
    "unknown establishment": (lambda f: f.submission(establishment_id=999999), None, "establishment_id"),
    "establishment outside the inspector's grids": (
        lambda f: f.submission(establishment_id=f.other_establishment.id), None, "establishment_id"),
    "retired checklist version": (lambda f: f.submission(), _retire, "checklist_version_id"),
    "unknown checklist version": (lambda f: f.submission(checklist_version_id=999999), None, "checklist_version_id"),
    "missing required answer": (
        lambda f: f.submission(answers=[{"item_code": "T01", "result": "pass"}, {"item_code": "T03", "number": 0.05}]),
        None, "answers"),
    "missing required photo": (
        lambda f: f.submission(attachments=[a for a in f.submission()["attachments"] if a.get("item_code") != "T04"]),
        None, "answers"),
    "a single inspector": (lambda f: f.submission(inspectors=[f.inspector.badge_no]), None, "inspectors"),
    "the same inspector twice": (
        lambda f: f.submission(inspectors=[f.inspector.badge_no, f.inspector.badge_no]), None, "inspectors"),
    "expired enforcement certificate": (lambda f: f.submission(), _expire_partner, "inspectors.1"),
    "unknown inspector": (lambda f: f.submission(inspectors=[f.inspector.badge_no, "NOPE"]), None, "inspectors.1"),
    "device's inspector not among the inspectors": (
        lambda f: f.submission(inspectors=[f.partner.badge_no, "NOPE"]), None, "inspectors"),
    "unknown item": (
        lambda f: f.submission(answers=f.submission()["answers"] + [{"item_code": "ZZ9", "result": "pass"}]),
        None, "answers.3.item_code"),
    "pass_fail item without result": (
        lambda f: f.submission(answers=[{"item_code": "T01"}, {"item_code": "T02", "result": "pass"},
                                        {"item_code": "T03", "number": 0.05}]), None, "answers.0.result"),
    "signature not in the manifest": (
        lambda f: f.submission(signature={"signer_name": "王建国", "sha256": "a" * 64}), None, "signature.sha256"),
    "end before start": (lambda f: f.submission(ended_at="2026-11-20T09:00:00+08:00"), None, "ended_at"),
    "start in the future": (
        lambda f: f.submission(started_at=(datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                               ended_at=(datetime.now() + timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")),
        None, "started_at"),
    "unsupported attachment type": (
        lambda f: f.submission(attachments=[dict(a, media_type="application/zip") for a in f.submission()["attachments"]]),
        None, "attachments.0.media_type"),
    "gps out of range": (lambda f: f.submission(gps={"lat": 95, "lng": 118.8, "accuracy_m": 5}), None, "gps.lat"),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refused_submission_names_the_field_and_stores_nothing(client, field, case):
    build, prepare, field_path = REFUSALS[case]
    if prepare:
        prepare(field)
    body = build(field)
    before = stored_state()
    response = submit(client, field, body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field_path in error["fields"], error["fields"]
    assert stored_state() == before
    assert db.session.get(Inspection, body["uuid"]) is None


def test_checklist_for_another_category_is_refused(client, field):
    definition = dict(CHECKLIST, code="pool", title="游泳场所检查表", categories=["swimming"])
    version, _ = checklists.publish(db.session, factories.ACTOR, definition)
    db.session.commit()
    response = submit(client, field, field.submission(checklist_version_id=version.id))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["checklist_version_id"] == ["该检查表不适用于此类单位"]


def test_failed_items_become_findings_and_a_serious_one_issues_a_rectification_order(client, field):
    body = field.submission(answers=[
        {"item_code": "T01", "result": "pass"},
        {"item_code": "T02", "result": "fail", "note": "2名服务员无健康证明"},
        {"item_code": "T03", "number": 0.25},
    ])
    result = submit(client, field, body).get_json()
    findings = {f["item_code"]: f for f in result["findings"]}
    assert set(findings) == {"T02", "T03"}
    assert "2名服务员无健康证明" in findings["T02"]["description"]
    assert "0.25" in findings["T03"]["description"] and "≤0.1" in findings["T03"]["description"]
    order = result["rectification_order"]
    assert order["item_codes"] == ["T02"]  # T03 is minor: a finding, not an order
    assert order["deadline"] == "2026-12-05"  # major: 15 days from the inspection day
    task = db.session.get(Task, order["reinspection_task_id"])
    assert (task.kind, task.status, task.grid_id) == ("reinspection", "open", field.establishment.grid_id)
    assert task.due_on == date(2026, 12, 5)


def test_critical_failure_gets_the_shorter_deadline(client, field):
    body = field.submission(answers=[{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "fail"},
                                     {"item_code": "T03", "number": 0.05}])
    order = submit(client, field, body).get_json()["rectification_order"]
    assert order["deadline"] == "2026-11-27" and order["item_codes"] == ["T01", "T02"]


def test_not_applicable_items_are_not_findings(client, field):
    body = field.submission(answers=[{"item_code": "T01", "result": "na"}, {"item_code": "T02", "result": "pass"},
                                     {"item_code": "T03", "result": "na"}])
    assert submit(client, field, body).get_json()["findings"] == []


def test_far_gps_fix_flags_the_inspection_for_review_but_accepts_it(client, field):
    body = field.submission(gps={"lat": 32.08, "lng": 118.7969, "accuracy_m": 10})  # about 2.2 km north
    response = submit(client, field, body)
    assert response.status_code == 201
    result = response.get_json()
    assert result["flagged_for_review"] is True
    assert "超过 500 米" in result["review_reasons"][0]


def test_review_distance_is_configurable(client, field, app, monkeypatch):
    monkeypatch.setitem(app.config, "GPS_REVIEW_DISTANCE_M", 5000)
    body = field.submission(gps={"lat": 32.08, "lng": 118.7969, "accuracy_m": 10})
    assert submit(client, field, body).get_json()["flagged_for_review"] is False


def test_inspection_completes_when_its_last_attachment_arrives(client, field):
    body = field.submission()
    submit(client, field, body)
    files = list(field.files_of(body).values())
    upload(client, field, files[0])
    state = client.get(f"{URL}/{body['uuid']}", headers=field.headers).get_json()
    assert state["status"] == "awaiting_attachments" and len(state["missing_attachments"]) == 1
    upload(client, field, files[1])
    state = client.get(f"{URL}/{body['uuid']}", headers=field.headers).get_json()
    assert state["status"] == "complete" and state["missing_attachments"] == [] and state["completed_at"]


def test_attachments_sent_before_the_submission_complete_it_at_once(client, field):
    body = field.submission()
    for data in field.files_of(body).values():
        assert upload(client, field, data).status_code == 201
    result = submit(client, field, body).get_json()
    assert result["status"] == "complete"


def test_complete_inspection_becomes_credit_information_with_its_provenance(client, field):
    body = field.submission(answers=[{"item_code": "T01", "result": "pass"}, {"item_code": "T02", "result": "fail"},
                                     {"item_code": "T03", "number": 0.05}])
    submit(client, field, body)
    assert count(CreditRecord) == 0  # not before it is complete
    for data in field.files_of(body).values():
        upload(client, field, data)
    record = db.session.execute(select(CreditRecord)).scalar_one()
    assert record.subject_id == field.establishment.subject_id
    assert (record.kind, record.source_type, record.source_ref) == ("inspection", "inspection", body["uuid"])
    assert record.channel == "handheld_terminal" and record.producing_unit_id == field.establishment.jurisdiction_id
    assert record.arose_on == date(2026, 11, 20)
    assert record.details["findings"] == [{"item_code": "T02", "severity": "major"}]


def test_submission_for_a_task_closes_it(client, field):
    task = tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                             kind="random")
    db.session.commit()
    submit(client, field, field.submission(task_id=task.id))
    db.session.refresh(task)
    assert task.status == "done" and task.closed_at is not None


def test_task_of_another_establishment_is_refused(client, field):
    task = tasks.create_task(db.session, factories.ACTOR,
                             establishment_credit_code=field.other_establishment.credit_code, kind="random")
    db.session.commit()
    response = submit(client, field, field.submission(task_id=task.id))
    assert response.status_code == 422 and "task_id" in response.get_json()["error"]["fields"]


def test_submission_is_written_to_the_audit_log_by_device_and_inspector(client, field):
    body = field.submission()
    submit(client, field, body)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "inspection.submit")).scalar_one()
    assert entry.entity_id == body["uuid"] and entry.actor_ref == f"device:{field.device.id}"
    assert f'"badge_no":"{field.inspector.badge_no}"' in entry.payload


# --- corrections ----------------------------------------------------------------------------

def _correct(client, field, original, **changes):
    body = field.submission(uuid=str(uuidlib.uuid4()), replaces=original["uuid"], **changes)
    return body, submit(client, field, body)


def test_correction_is_a_new_version_and_the_old_one_is_kept(client, field):
    original = field.submission()
    submit(client, field, original)
    correction, response = _correct(client, field, original, notes="更正：补充说明")
    assert response.status_code == 201
    result = response.get_json()
    assert (result["version"], result["replaces"], result["lineage_uuid"]) == (2, original["uuid"], original["uuid"])
    old = db.session.get(Inspection, original["uuid"])
    assert old.superseded_at is not None and old.notes == original["notes"]
    shown_old = client.get(f"{URL}/{original['uuid']}", headers=field.headers).get_json()
    assert shown_old["is_current"] is False


def test_correction_and_original_are_both_in_the_audit_log(client, field):
    original = field.submission()
    submit(client, field, original)
    correction, _ = _correct(client, field, original, notes="更正")
    actions = dict(db.session.execute(
        select(AuditEntry.entity_id, AuditEntry.action).where(AuditEntry.action.like("inspection.%"))).all())
    assert actions == {original["uuid"]: "inspection.submit", correction["uuid"]: "inspection.correct"}
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "inspection.correct")).scalar_one()
    assert f'"before":{{"answers"' in entry.payload and original["uuid"] in entry.payload


def test_correcting_a_version_that_is_no_longer_current_is_a_conflict(client, field):
    original = field.submission()
    submit(client, field, original)
    _correct(client, field, original, notes="第一次更正")
    before = stored_state()
    late, response = _correct(client, field, original, notes="基于旧版本的更正")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "stale_version"
    assert stored_state() == before


def test_correction_withdraws_the_order_and_task_of_the_version_it_replaces(client, field):
    failing = [{"item_code": "T01", "result": "pass"}, {"item_code": "T02", "result": "fail"},
               {"item_code": "T03", "number": 0.05}]
    original = field.submission(answers=failing)
    first_order = submit(client, field, original).get_json()["rectification_order"]
    _, response = _correct(client, field, original, answers=[dict(a, result="pass") if a.get("result") else a for a in failing])
    assert response.get_json()["rectification_order"] is None
    assert db.session.get(RectificationOrder, first_order["id"]).status == "superseded"
    assert db.session.get(Task, first_order["reinspection_task_id"]).status == "cancelled"


def test_correction_of_a_complete_inspection_supersedes_its_credit_record(client, field):
    original = field.submission()
    for data in field.files_of(original).values():
        upload(client, field, data)
    submit(client, field, original)
    correction, response = _correct(client, field, original, notes="更正")
    assert response.get_json()["status"] == "complete"
    records = {r.source_ref: r for r in db.session.execute(select(CreditRecord)).scalars()}
    assert records[original["uuid"]].superseded_at is not None
    assert records[correction["uuid"]].superseded_at is None


def test_correction_of_an_unknown_version_is_refused(client, field):
    body = field.submission(replaces=str(uuidlib.uuid4()))
    response = submit(client, field, body)
    assert response.status_code == 422 and "replaces" in response.get_json()["error"]["fields"]


# --- batch ----------------------------------------------------------------------------------

def test_batch_answers_per_inspection_and_stores_only_the_good_ones(client, field):
    good, already = field.submission(), field.submission()
    submit(client, field, already)
    conflicting = dict(already, notes="不同内容")
    bad = field.submission(inspectors=[field.inspector.badge_no])
    malformed = {"uuid": "not-a-uuid", "establishment_id": "x"}
    response = client.post(f"{URL}/batch", headers=field.headers,
                           json={"inspections": [good, already, conflicting, bad, malformed]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["index"], r["status"], r["outcome"]) for r in results] == [
        (0, 201, "created"), (1, 200, "replayed"), (2, 409, "refused"), (3, 422, "refused"), (4, 422, "refused")]
    assert results[0]["inspection"]["uuid"] == good["uuid"]
    assert "inspectors" in results[3]["error"]["fields"]
    assert {"uuid", "establishment_id"} <= set(results[4]["error"]["fields"])
    assert db.session.get(Inspection, bad["uuid"]) is None
    assert count(Inspection) == 2


def test_batch_retried_whole_stores_nothing_twice(client, field):
    batch = {"inspections": [field.submission(), field.submission()]}
    client.post(f"{URL}/batch", headers=field.headers, json=batch)
    before = stored_state()
    again = client.post(f"{URL}/batch", headers=field.headers, json=batch).get_json()["results"]
    assert [r["outcome"] for r in again] == ["replayed", "replayed"]
    assert stored_state() == before


def test_batch_size_is_limited(client, field):
    response = client.post(f"{URL}/batch", headers=field.headers, json={"inspections": [{}] * 51})
    assert response.status_code == 422 and "inspections" in response.get_json()["error"]["fields"]


# --- penalty cases --------------------------------------------------------------------------

def _failed(client, field):
    body = field.submission(answers=[{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "pass"},
                                     {"item_code": "T03", "number": 0.05}])
    return body, submit(client, field, body).get_json()


def test_penalty_case_is_opened_from_findings(client, field):
    body, result = _failed(client, field)
    finding_id = result["findings"][0]["id"]
    response = client.post(f"{URL}/{body['uuid']}/penalty-cases", headers=field.headers,
                           json={"finding_ids": [finding_id], "summary": "无证经营，拟立案查处"})
    assert response.status_code == 201
    assert db.session.get(Finding, finding_id).penalty_case_id == response.get_json()["id"]


def test_penalty_case_for_a_finding_already_in_a_case_is_a_conflict(client, field):
    body, result = _failed(client, field)
    request = {"finding_ids": [result["findings"][0]["id"]], "summary": "立案"}
    client.post(f"{URL}/{body['uuid']}/penalty-cases", headers=field.headers, json=request)
    assert client.post(f"{URL}/{body['uuid']}/penalty-cases", headers=field.headers, json=request).status_code == 409


def test_penalty_case_with_a_finding_of_another_inspection_is_refused(client, field):
    body, _ = _failed(client, field)
    response = client.post(f"{URL}/{body['uuid']}/penalty-cases", headers=field.headers,
                           json={"finding_ids": [987654], "summary": "立案"})
    assert response.status_code == 422 and "finding_ids" in response.get_json()["error"]["fields"]


def test_inspection_of_another_jurisdiction_is_not_visible(client, field):
    body = field.submission()
    submit(client, field, body)
    elsewhere = factories.jurisdiction(code="320105", name="建邺区")
    db.session.flush()
    field.inspector.jurisdiction_id = elsewhere.id
    db.session.commit()
    assert client.get(f"{URL}/{body['uuid']}", headers=field.headers).status_code == 404
