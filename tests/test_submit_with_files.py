"""The one-request path: the submission and its files in one multipart request, as OpenRosa
clients send them. Files the server holds may be left out; the rest can follow one by one."""
import io
import json

from sqlalchemy import func, select

from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.inspections.models import Attachment, Inspection
from tests.terminal import png, sha, upload

URL = "/api/v1/inspections/with-files"


def post_with_files(client, field, body, files: dict[str, bytes], *, submission=None):
    data = {"submission": (io.BytesIO(submission if submission is not None else json.dumps(body).encode()),
                           "submission.json", "application/json")}
    for digest, content in files.items():
        data[digest] = (io.BytesIO(content), f"{digest}.png", "image/png")
    return client.post(URL, data=data, headers=field.headers, content_type="multipart/form-data")


def credit_records(uuid) -> int:
    return db.session.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.source_ref == uuid))


def test_submission_and_all_its_files_in_one_request_complete_it(client, field):
    body = field.submission()
    response = post_with_files(client, field, body, field.files_of(body))
    assert response.status_code == 201
    state = response.get_json()
    assert state["status"] == "complete" and state["missing_attachments"] == []
    assert credit_records(body["uuid"]) == 1


def test_files_already_held_may_be_left_out(client, field):
    body = field.submission()
    files = field.files_of(body)
    for data in files.values():
        upload(client, field, data)
    response = post_with_files(client, field, body, {})
    assert response.status_code == 201 and response.get_json()["status"] == "complete"


def test_a_file_left_out_can_follow_by_put(client, field, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    body = field.submission()
    (first, first_data), (second, second_data) = field.files_of(body).items()
    state = post_with_files(client, field, body, {first: first_data}).get_json()
    assert state["status"] == "awaiting_attachments"
    assert [m["sha256"] for m in state["missing_attachments"]] == [second]
    assert upload(client, field, second_data).status_code == 201
    assert client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers).get_json()["status"] == "complete"
    assert credit_records(body["uuid"]) == 1


def test_the_same_request_again_is_a_replay(client, field):
    body = field.submission()
    post_with_files(client, field, body, field.files_of(body))
    again = post_with_files(client, field, body, field.files_of(body))
    assert again.status_code == 200 and again.get_json()["status"] == "complete"
    assert credit_records(body["uuid"]) == 1


def test_a_bad_file_refuses_the_request_whole(client, field, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    body = field.submission()
    files = field.files_of(body)
    first = next(iter(files))
    files[first] = png(99)  # not the bytes its name promises
    response = post_with_files(client, field, body, files)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "hash_mismatch"
    assert db.session.get(Inspection, body["uuid"]) is None
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_file_not_in_the_manifest_is_refused(client, field):
    body = field.submission()
    stranger = png(42)
    response = post_with_files(client, field, body, {**field.files_of(body), sha(stranger): stranger})
    assert response.status_code == 422 and sha(stranger) in response.get_json()["error"]["fields"]
    assert db.session.get(Inspection, body["uuid"]) is None


def test_an_invalid_submission_part_is_refused_with_its_fields(client, field):
    body = field.submission()
    del body["gps"]
    response = post_with_files(client, field, body, field.files_of(body))
    assert response.status_code == 422
    assert "submission.gps" in response.get_json()["error"]["fields"]
    malformed = post_with_files(client, field, body, {}, submission=b"{not json")
    assert malformed.status_code == 422 and malformed.get_json()["error"]["code"] == "malformed_json"


def test_a_json_body_is_refused_with_the_type_expected(client, field):
    response = client.post(URL, json=field.submission(), headers=field.headers)
    assert response.status_code == 422
    assert "multipart/form-data" in response.get_json()["error"]["message"]


def test_the_multipart_request_is_documented(client):
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/inspections/with-files"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]


def test_more_files_than_one_request_may_carry_are_refused(client, field, monkeypatch):
    import field_api.inspections

    monkeypatch.setattr(field_api.inspections, "MAX_FILES_PER_REQUEST", 1)
    body = field.submission()
    response = post_with_files(client, field, body, field.files_of(body))
    assert response.status_code == 422 and "最多携带 1 个附件" in response.get_json()["error"]["message"]
    assert db.session.get(Inspection, body["uuid"]) is None
