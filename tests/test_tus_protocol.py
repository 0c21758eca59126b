"""The tus 1.0 protocol surface at /api/v1/uploads, request by request through the test client:
discovery, versions, creation limits, offsets, media types, termination, audit; and video
entries in the inspection manifest."""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.extensions import db
from supervision.inspections.models import VideoUpload
from tests.terminal import sha
from tests.video_support import mp4

TUS = {"Tus-Resumable": "1.0.0"}


def metadata(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client, field, data: bytes, media_type="video/mp4", length=None, declared=None):
    return client.post("/api/v1/uploads", headers={
        **field.headers, **TUS, "Upload-Length": str(len(data) if length is None else length),
        "Upload-Metadata": metadata(sha256=declared or sha(data), media_type=media_type)})


def patch(client, field, location, data: bytes, offset: int, checksum: str | None = None,
          content_type="application/offset+octet-stream"):
    headers = {**field.headers, **TUS, "Upload-Offset": str(offset), "Content-Type": content_type}
    if checksum:
        headers["Upload-Checksum"] = checksum
    return client.patch(location, data=data, headers=headers)


def sha1_header(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()


def test_options_announces_version_extensions_limit_and_checksums(client, field, app):
    response = client.options("/api/v1/uploads", headers=field.headers)
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0" and response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) >= {"creation", "checksum", "termination"}
    assert response.headers["Tus-Max-Size"] == str(app.config["MAX_VIDEO_BYTES"]) == str(2 * 1024 ** 3)
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_limits_state_the_video_limit(client, app):
    limits = client.get("/api/v1/limits").get_json()
    assert limits["max_video_bytes"] == app.config["MAX_VIDEO_BYTES"]
    assert limits["video_media_types"] == ["video/mp4", "video/quicktime"]
    assert limits["max_video_chunk_bytes"] == app.config["MAX_VIDEO_CHUNK_BYTES"]


def test_every_answer_carries_tus_resumable_even_a_refusal(client, field):
    unauthenticated = client.post("/api/v1/uploads", headers=TUS)
    assert unauthenticated.status_code == 401 and unauthenticated.headers["Tus-Resumable"] == "1.0.0"
    assert unauthenticated.get_json()["error"]["code"] == "unauthenticated"


def test_request_without_the_protocol_version_is_a_412(client, field):
    response = client.post("/api/v1/uploads", headers={**field.headers, "Upload-Length": "10"})
    assert response.status_code == 412 and response.headers["Tus-Version"] == "1.0.0"


def test_creation_answers_location_and_offset_zero(client, field, app):
    data = mp4(5000)
    response = create(client, field, data)
    assert response.status_code == 201 and response.headers["Upload-Offset"] == "0"
    location = response.headers["Location"]
    state = client.head(location, headers={**field.headers, **TUS})
    assert state.status_code == 200 and state.headers["Upload-Length"] == "5000"
    assert state.headers["Cache-Control"] == "no-store" and "Upload-Expires" in state.headers


def test_creation_over_the_limit_is_a_413(client, field, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAX_VIDEO_BYTES", 1000)
    response = create(client, field, mp4(5000))
    assert response.status_code == 413 and "1000" in response.get_json()["error"]["message"]


def test_creation_of_another_media_type_or_a_bad_hash_is_refused(client, field):
    assert create(client, field, mp4(5000), media_type="image/png").status_code == 422
    assert create(client, field, mp4(5000), declared="ABC").status_code == 422
    assert db.session.scalar(select(VideoUpload.id)) is None


def test_piece_at_the_wrong_offset_is_a_409(client, field):
    data = mp4(5000)
    location = create(client, field, data).headers["Location"]
    response = patch(client, field, location, data[100:200], offset=100)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "offset_mismatch"
    assert client.head(location, headers={**field.headers, **TUS}).headers["Upload-Offset"] == "0"


def test_piece_of_another_content_type_is_a_415(client, field):
    data = mp4(5000)
    location = create(client, field, data).headers["Location"]
    response = patch(client, field, location, data, offset=0, content_type="application/octet-stream")
    assert response.status_code == 415


def test_piece_over_the_chunk_limit_is_a_413_and_nothing_is_kept(client, field, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAX_VIDEO_CHUNK_BYTES", 1000)
    data = mp4(5000)
    location = create(client, field, data).headers["Location"]
    assert patch(client, field, location, data, offset=0).status_code == 413
    assert client.head(location, headers={**field.headers, **TUS}).headers["Upload-Offset"] == "0"


def test_pieces_with_checksums_complete_the_upload(client, field, app):
    data = mp4(5000)
    location = create(client, field, data).headers["Location"]
    first = patch(client, field, location, data[:3000], offset=0, checksum=sha1_header(data[:3000]))
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "3000"
    sha256_checksum = "sha256 " + base64.b64encode(hashlib.sha256(data[3000:]).digest()).decode()
    last = patch(client, field, location, data[3000:], offset=3000, checksum=sha256_checksum)
    assert last.status_code == 204 and last.headers["Upload-Offset"] == "5000"
    digest = sha(data)
    assert (Path(app.config["ATTACHMENT_DIR"]) / digest[:2] / digest[2:4] / digest).read_bytes() == data
    assert client.get(f"/api/v1/attachments/{digest}", headers=field.headers).get_json()["media_type"] == "video/mp4"


def test_wrong_checksum_is_a_460(client, field):
    data = mp4(5000)
    location = create(client, field, data).headers["Location"]
    response = patch(client, field, location, data[:3000], offset=0, checksum=sha1_header(b"other"))
    assert response.status_code == 460 and response.get_json()["error"]["code"] == "checksum_mismatch"
    assert client.head(location, headers={**field.headers, **TUS}).headers["Upload-Offset"] == "0"


def test_termination_removes_the_partial_file_and_is_audited(client, field, app):
    data = mp4(5000)
    location = create(client, field, data).headers["Location"]
    patch(client, field, location, data[:2000], offset=0)
    upload_id = location.rsplit("/", 1)[1]
    partial = Path(app.config["ATTACHMENT_DIR"]) / "uploads" / upload_id
    assert partial.stat().st_size == 2000
    response = client.delete(location, headers={**field.headers, **TUS})
    assert response.status_code == 204 and response.headers["Tus-Resumable"] == "1.0.0"
    assert not partial.exists()
    assert client.head(location, headers={**field.headers, **TUS}).status_code == 404
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == upload_id)
                                 .order_by(AuditEntry.seq)).scalars().all()
    assert actions == ["video_upload.create", "video_upload.terminate"]


def test_manifest_takes_a_video_entry(client, field):
    video = mp4(5000)
    submission = field.submission()
    submission["attachments"].append({"sha256": sha(video), "size": len(video), "media_type": "video/mp4",
                                      "purpose": "video"})
    response = client.post("/api/v1/inspections", json=submission, headers=field.headers)
    assert response.status_code == 201
    missing = response.get_json()["missing_attachments"]
    assert {"sha256": sha(video), "purpose": "video", "uploaded_bytes": 0}.items() <= [
        m for m in missing if m["purpose"] == "video"][0].items()


def test_manifest_video_must_say_it_is_a_video(client, field):
    video = mp4(5000)
    submission = field.submission()
    submission["attachments"].append({"sha256": sha(video), "size": len(video), "media_type": "video/mp4"})
    response = client.post("/api/v1/inspections", json=submission, headers=field.headers)
    assert response.status_code == 422 and "attachments.2.purpose" in response.get_json()["error"]["fields"]


def test_manifest_video_over_the_video_limit_is_refused(client, field, app):
    submission = field.submission()
    submission["attachments"].append({"sha256": "a" * 64, "size": app.config["MAX_VIDEO_BYTES"] + 1,
                                      "media_type": "video/mp4", "purpose": "video"})
    response = client.post("/api/v1/inspections", json=submission, headers=field.headers)
    assert response.status_code == 422 and "attachments.2.size" in response.get_json()["error"]["fields"]


def upload_whole(client, field, data: bytes) -> str:
    location = create(client, field, data).headers["Location"]
    assert patch(client, field, location, data, offset=0).status_code == 204
    return location


def test_cleanup_of_an_expired_completed_upload_keeps_the_stored_video(client, field, app, runner):
    from sqlalchemy import update

    from supervision.modelbase import utcnow

    data = mp4(5000)
    upload_whole(client, field, data)
    db.session.execute(update(VideoUpload).values(expires_at=utcnow()))
    result = runner.invoke(args=["uploads", "cleanup"])
    assert result.exit_code == 0 and "1 expired upload(s) removed" in result.output
    assert db.session.scalar(select(VideoUpload.id)) is None
    assert client.get(f"/api/v1/attachments/{sha(data)}", headers=field.headers).status_code == 200


def test_evidence_of_another_jurisdiction_does_not_exist_for_a_device(client, field, app):
    from datetime import date, timedelta

    from supervision.devices import service as devices
    from tests import factories

    video = mp4(5000)
    submission = field.submission()
    submission["attachments"].append({"sha256": sha(video), "size": len(video), "media_type": "video/mp4",
                                      "purpose": "video"})
    assert client.post("/api/v1/inspections", json=submission, headers=field.headers).status_code == 201
    upload_whole(client, field, video)
    own = client.get(f"/api/v1/evidence/{sha(video)}", headers={**field.headers, "Range": "bytes=0-99"})
    assert own.status_code == 206 and own.data == video[:100]
    own.close()  # the response streams the file: close it

    elsewhere = factories.jurisdiction(code="320104", name="秦淮区")
    stranger = factories.inspector(elsewhere, grids=[factories.grid(elsewhere)],
                                   valid_from=date.today() - timedelta(days=10), valid_until=date.today() + timedelta(days=10))
    _, code = devices.enrol_device(db.session, factories.ACTOR, badge_no=stranger.badge_no, label="外区终端",
                                   code_ttl=timedelta(hours=1))
    token = devices.exchange_enrolment_code(db.session, code, token_ttl=timedelta(days=1)).token
    response = client.get(f"/api/v1/evidence/{sha(video)}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_evidence_of_an_unknown_file_is_a_404(client, field):
    assert client.get(f"/api/v1/evidence/{'0' * 64}", headers=field.headers).status_code == 404


def test_cleanup_runs_inline_when_no_queue_answers(runner):
    result = runner.invoke(args=["uploads", "cleanup", "--queue"])  # the tests' REDIS_URL is empty
    assert result.exit_code == 0 and "0 expired upload(s) removed" in result.output
