"""Attachment uploads: content-addressed, hash-checked, real images only, size-limited."""
import io
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from supervision.extensions import db
from supervision.inspections.models import Attachment
from tests.terminal import png, sha, upload


def stored_files(app) -> set[Path]:
    """Every file in the store, temporary ones included (the store is shared across tests)."""
    root = Path(app.config["ATTACHMENT_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def attachment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment))


def test_upload_is_stored_under_its_hash_and_acknowledged(client, field, app):
    data = png(7)
    response = upload(client, field, data)
    assert response.status_code == 201
    assert response.get_json()["size"] == len(data) and response.get_json()["width"] == 32
    digest = sha(data)
    path = Path(app.config["ATTACHMENT_DIR"]) / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == data


def test_uploading_the_same_file_again_writes_nothing_new(client, field, app):
    data = png(7)
    upload(client, field, data)
    files = stored_files(app)
    again = upload(client, field, data)
    assert again.status_code == 200
    assert attachment_count() == 1 and stored_files(app) == files


def test_server_says_whether_it_holds_a_file(client, field):
    data = png(8)
    missing = client.get(f"/api/v1/attachments/{sha(data)}", headers=field.headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    upload(client, field, data)
    assert client.get(f"/api/v1/attachments/{sha(data)}", headers=field.headers).status_code == 200


def test_wrong_hash_is_refused_and_nothing_is_kept(client, field, app):
    files = stored_files(app)
    response = upload(client, field, png(1), address=sha(png(2)))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "hash_mismatch" and sha(png(1)) in error["fields"]["sha256"][0]
    assert attachment_count() == 0 and stored_files(app) == files


def test_file_that_is_not_an_image_is_refused(client, field, app):
    files = stored_files(app)
    data = b"%PDF-1.4 this is not a picture"
    response = upload(client, field, data)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "not_an_image"
    assert attachment_count() == 0 and stored_files(app) == files


def test_image_of_another_type_than_declared_is_refused(client, field):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    response = upload(client, field, buffer.getvalue(), media_type="image/png")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "not_an_image"


def test_truncated_image_is_refused(client, field):
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, format="JPEG")
    response = upload(client, field, buffer.getvalue()[:400], media_type="image/jpeg")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "not_an_image"


def test_decompression_bomb_is_refused_before_decoding(client, field, app):
    files = stored_files(app)
    buffer = io.BytesIO()
    Image.new("1", (8_000, 8_000)).save(buffer, format="PNG")  # 64 Mpx in a few KB
    data = buffer.getvalue()
    assert len(data) < app.config["MAX_ATTACHMENT_BYTES"]
    response = upload(client, field, data)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "image_too_large" and "8000×8000" in error["message"]
    assert stored_files(app) == files


def test_unsupported_media_type_is_refused(client, field):
    response = upload(client, field, b"GIF89a....", media_type="image/gif")
    assert response.status_code == 422 and "Content-Type" in response.get_json()["error"]["fields"]


def test_oversize_upload_gets_413_saying_the_limit(client, field, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 50)
    response = upload(client, field, png(3))
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and "50 字节" in error["message"]
    assert attachment_count() == 0


def test_limits_are_advertised_to_the_device(client, field, app):
    limits = client.get("/api/v1/limits").get_json()
    assert limits["max_attachment_bytes"] == app.config["MAX_ATTACHMENT_BYTES"]
    assert "image/jpeg" in limits["allowed_media_types"] and limits["max_batch_size"] == 50


def test_malformed_address_is_refused(client, field):
    response = client.put("/api/v1/attachments/..%2F..%2Fetc%2Fpasswd", data=png(1),
                          headers={**field.headers, "Content-Type": "image/png"})
    assert response.status_code in (404, 422)
    response = upload(client, field, png(1), address="ABC")
    assert response.status_code == 422 and "sha256" in response.get_json()["error"]["fields"]


def test_empty_upload_is_refused(client, field):
    response = upload(client, field, b"", address="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert response.status_code == 422


def test_upload_from_a_revoked_device_is_refused(client, field):
    from supervision.devices import service as devices
    from tests import factories

    devices.revoke_device(db.session, factories.ACTOR, field.device.id)
    db.session.commit()
    assert upload(client, field, png(1)).status_code == 401
    assert attachment_count() == 0


def test_retry_after_a_broken_connection_sends_only_what_is_missing(client, field):
    body = field.submission()
    client.post("/api/v1/inspections", json=body, headers=field.headers)
    files = field.files_of(body)
    first = next(iter(files))
    upload(client, field, files[first])
    # The connection broke here. On reconnecting the device asks what is still missing ...
    missing = client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers).get_json()["missing_attachments"]
    assert [m["sha256"] for m in missing] == [s for s in files if s != first]
    # ... and sends just that.
    for entry in missing:
        upload(client, field, files[entry["sha256"]])
    state = client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers).get_json()
    assert state["status"] == "complete"


def test_file_of_another_size_than_declared_keeps_the_inspection_incomplete(client, field):
    photo = png(1)
    body = field.submission()
    body["attachments"][0]["size"] = len(photo) + 1
    client.post("/api/v1/inspections", json=body, headers=field.headers)
    for data in field.files_of(body).values():
        upload(client, field, data)
    state = client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers).get_json()
    assert state["status"] == "awaiting_attachments"
    assert [m["sha256"] for m in state["missing_attachments"]] == [sha(photo)]
