"""Body-camera video over tus 1.0, driven by a real tus client (tuspy) against the app under a
real HTTP server: interrupted and resumed, checksums, hashes, signatures, expiry, two devices,
revocation, and the inspection completing when its video lands."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from supervision.devices import service as devices
from supervision.extensions import db
from supervision.inspections.models import Attachment, Inspection, VideoUpload
from supervision.modelbase import utcnow
from tests import factories
from tests.terminal import make_field, png, sha
from tests.video_support import mp4, quicktime, second_device, serving, tus_client, uploader

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def live(fresh_app):
    field = make_field(fresh_app)
    with serving(fresh_app) as (base, faults):
        yield fresh_app, field, base, faults


def store_files(app) -> set[Path]:
    root = Path(app.config["ATTACHMENT_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def stored_path(app, digest: str) -> Path:
    return Path(app.config["ATTACHMENT_DIR"]) / digest[:2] / digest[2:4] / digest


def rows(model) -> int:
    """Rows the server committed; the read ends at once, so no lock outlives it (SQLite)."""
    db.session.rollback()
    count = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return count


def head(url: str, headers: dict) -> requests.Response:
    return requests.head(url, headers={**headers, **TUS}, timeout=10)


def test_upload_interrupted_several_times_resumes_to_completion(live, tmp_path):
    app, field, base, faults = live
    data = mp4(400_000)
    faults.cuts, faults.after = 3, 20_000  # three pieces in a row drop after 20 kB
    up = uploader(tus_client(base, field.headers), data, chunk_size=100_000,
                  checksum=False, retries=5)
    up.upload()
    assert faults.faults_done == 3
    assert stored_path(app, sha(data)).read_bytes() == data
    attachment = db.session.get(Attachment, sha(data))
    assert attachment.size == len(data) and attachment.media_type == "video/mp4"


def test_dropped_piece_keeps_the_bytes_that_arrived(live, tmp_path):
    app, field, base, faults = live
    data = mp4(300_000)
    faults.cuts, faults.after = 1, 30_000
    up = uploader(tus_client(base, field.headers), data, chunk_size=100_000, checksum=False)
    with pytest.raises(TusUploadFailed):
        up.upload_chunk()
    assert int(head(up.url, field.headers).headers["Upload-Offset"]) == 30_000
    up.offset = up.get_offset()
    up.upload()
    assert stored_path(app, sha(data)).read_bytes() == data


def test_piece_with_a_wrong_checksum_is_refused_and_the_offset_is_unchanged(live, tmp_path):
    app, field, base, faults = live
    data = mp4(200_000)
    up = uploader(tus_client(base, field.headers), data, chunk_size=50_000)
    up.upload_chunk()
    assert up.offset == 50_000
    faults.corrupt = 1
    with pytest.raises(TusUploadFailed) as refused:
        up.upload_chunk()
    assert refused.value.status_code == 460
    response = head(up.url, field.headers)
    assert response.headers["Upload-Offset"] == "50000" and response.headers["Cache-Control"] == "no-store"
    up.upload()  # the same piece again, uncorrupted
    assert stored_path(app, sha(data)).read_bytes() == data


def test_whole_file_hash_mismatch_is_refused_and_nothing_is_kept(live, tmp_path):
    app, field, base, _ = live
    data = mp4(150_000)
    before = store_files(app)
    up = uploader(tus_client(base, field.headers), data, declared=sha(b"another file"),
                  chunk_size=100_000)
    with pytest.raises(TusUploadFailed) as refused:
        up.upload()
    assert refused.value.status_code == 422 and b"hash_mismatch" in refused.value.response_content
    assert store_files(app) == before
    assert rows(Attachment) == 0 and rows(VideoUpload) == 0
    assert head(up.url, field.headers).status_code == 404


def test_spoofed_container_is_refused(live, tmp_path):
    app, field, base, _ = live
    before = store_files(app)
    fake = png(3) * 50  # a picture sent as a video
    up = uploader(tus_client(base, field.headers), fake, chunk_size=4096)
    with pytest.raises(TusUploadFailed) as refused:
        up.upload()
    assert refused.value.status_code == 422 and b"not_a_video" in refused.value.response_content
    assert store_files(app) == before and rows(VideoUpload) == 0 and rows(Attachment) == 0


def test_mp4_declared_as_quicktime_is_refused(live, tmp_path):
    _, field, base, _ = live
    data = mp4(20_000)
    up = uploader(tus_client(base, field.headers), data, media_type="video/quicktime")
    with pytest.raises(TusUploadFailed) as refused:
        up.upload()
    assert refused.value.status_code == 422


def test_quicktime_is_accepted(live, tmp_path):
    app, field, base, _ = live
    data = quicktime()
    uploader(tus_client(base, field.headers), data,
             media_type="video/quicktime").upload()
    assert db.session.get(Attachment, sha(data)).media_type == "video/quicktime"


def test_expired_upload_is_cleaned_up(live, tmp_path):
    app, field, base, _ = live
    data = mp4(120_000)
    up = uploader(tus_client(base, field.headers), data, chunk_size=50_000)
    up.upload(stop_at=50_000)
    partial = Path(app.config["ATTACHMENT_DIR"]) / "uploads" / up.url.rsplit("/", 1)[1]
    assert partial.stat().st_size == 50_000
    db.session.execute(update(VideoUpload).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert head(up.url, field.headers).status_code == 410
    result = app.test_cli_runner().invoke(args=["uploads", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "1 expired upload(s) removed" in result.output
    assert not partial.exists() and rows(VideoUpload) == 0
    assert head(up.url, field.headers).status_code == 404


def test_two_devices_uploading_the_same_file(live, tmp_path):
    app, field, base, _ = live
    _, other_headers = second_device(field)
    data = mp4(200_000)
    first = uploader(tus_client(base, field.headers), data, chunk_size=50_000)
    second = uploader(tus_client(base, other_headers), data, chunk_size=50_000)
    first.upload(stop_at=100_000)
    second.upload(stop_at=50_000)  # both at once, interleaved
    first.upload()
    second.upload()
    assert stored_path(app, sha(data)).read_bytes() == data and rows(Attachment) == 1
    # a third upload of a file already held completes at once: nothing to send
    third = uploader(tus_client(base, other_headers), data)
    third.set_url(third.create_url())
    assert third.get_offset() == len(data)
    # and one device cannot see another's upload
    assert head(first.url, other_headers).status_code == 404


def test_revoked_device_is_refused_mid_upload(live, tmp_path):
    app, field, base, _ = live
    data = mp4(150_000)
    up = uploader(tus_client(base, field.headers), data, chunk_size=50_000)
    up.upload_chunk()
    db.session.rollback()
    devices.revoke_device(db.session, factories.ACTOR, field.device.id)
    db.session.commit()
    with pytest.raises(TusUploadFailed) as refused:
        up.upload_chunk()
    assert refused.value.status_code == 401
    with pytest.raises(TusCommunicationError):
        up.get_offset()
    assert rows(Attachment) == 0


def test_inspection_completes_when_its_video_lands(live, tmp_path):
    app, field, base, _ = live
    video = mp4(180_000)
    submission = field.submission()
    submission["attachments"].append({"sha256": sha(video), "size": len(video), "media_type": "video/mp4",
                                      "item_code": "T04", "purpose": "video"})
    db.session.rollback()  # end the test's read before the server writes (SQLite locks the file)
    session = requests.Session()
    session.headers.update(field.headers)
    assert session.post(f"{base}/api/v1/inspections", json=submission, timeout=10).status_code == 201
    for digest, data in field.files_of(submission).items():
        response = session.put(f"{base}/api/v1/attachments/{digest}", data=data, timeout=10,
                               headers={"Content-Type": "image/png"})
        assert response.status_code == 201
    up = uploader(tus_client(base, field.headers), video, chunk_size=60_000)
    up.upload(stop_at=60_000)
    state = session.get(f"{base}/api/v1/inspections/{submission['uuid']}", timeout=10).json()
    assert state["status"] == "awaiting_attachments"
    assert [(m["sha256"], m["purpose"], m["uploaded_bytes"]) for m in state["missing_attachments"]] == [
        (sha(video), "video", 60_000)]
    up.upload()
    db.session.rollback()
    assert db.session.get(Inspection, submission["uuid"]).status == "complete"
    db.session.rollback()
    state = session.get(f"{base}/api/v1/inspections/{submission['uuid']}", timeout=10).json()
    assert state["status"] == "complete" and state["missing_attachments"] == []


def test_evidence_is_streamed_with_ranges_to_devices_of_its_jurisdiction(live, tmp_path):
    app, field, base, _ = live
    video = mp4(100_000)
    submission = field.submission()
    submission["attachments"].append({"sha256": sha(video), "size": len(video), "media_type": "video/mp4",
                                      "purpose": "video"})
    db.session.rollback()
    assert requests.post(f"{base}/api/v1/inspections", json=submission, headers=field.headers,
                         timeout=10).status_code == 201
    uploader(tus_client(base, field.headers), video).upload()
    url = f"{base}/api/v1/evidence/{sha(video)}"
    whole = requests.get(url, headers=field.headers, timeout=10)
    assert whole.status_code == 200 and whole.content == video and whole.headers["Accept-Ranges"] == "bytes"
    part = requests.get(url, headers={**field.headers, "Range": "bytes=1000-1999"}, timeout=10)
    assert part.status_code == 206 and part.content == video[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(video)}"
    beyond = requests.get(url, headers={**field.headers, "Range": f"bytes={len(video) + 10}-"}, timeout=10)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(video)}"


def test_the_public_can_never_stream_evidence(live, tmp_path):
    app, field, base, _ = live
    video = mp4(50_000)
    submission = field.submission()
    submission["attachments"].append({"sha256": sha(video), "size": len(video), "media_type": "video/mp4",
                                      "purpose": "video"})
    db.session.rollback()
    requests.post(f"{base}/api/v1/inspections", json=submission, headers=field.headers, timeout=10)
    uploader(tus_client(base, field.headers), video).upload()
    assert requests.get(f"{base}/api/v1/evidence/{sha(video)}", timeout=10).status_code == 401
    # No route serves the store to the public: the API's need a device token, and the only
    # others are the establishment's own objection and self-report files (by their row, never by
    # hash), behind the portal's sign-in or an account token.
    from field_api.auth import device_required
    from field_api.portal_auth import account_required

    rules = [rule for rule in app.url_map.iter_rules() if any(word in rule.rule for word in ("evidence", "upload"))
             or rule.rule.startswith("/api/v1/attachments")]
    assert rules and all(rule.rule.startswith(("/api/v1/", "/portal/")) for rule in rules)
    for rule in rules:
        if rule.rule.startswith("/portal/"):
            url = rule.rule.replace("<id:objection_id>", "1").replace("<id:report_id>", "1").replace(
                "<id:evidence_id>", "1")
            assert requests.get(f"{base}{url}", allow_redirects=False, timeout=10).status_code == 302, url
            continue
        decorators = app.view_functions[rule.endpoint].view_class.decorators
        if rule.rule.startswith("/api/v1/portal/"):
            assert account_required in decorators
            assert "<sha256>" not in rule.rule
        else:
            assert device_required in decorators
