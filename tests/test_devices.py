"""Enrolment codes, tokens, rotation and revocation of terminals."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.devices import service as devices
from supervision.devices.models import DeviceToken
from supervision.extensions import db
from supervision.modelbase import utcnow
from tests import factories


@pytest.fixture
def enrolment(app):
    district = factories.jurisdiction()
    inspector = factories.inspector(district, grids=[factories.grid(district)])
    device, code = devices.enrol_device(db.session, factories.ACTOR, badge_no=inspector.badge_no, label="终端A",
                                        code_ttl=timedelta(hours=1))
    db.session.commit()
    return inspector, device, code


def test_enrolment_code_gives_a_token_that_authenticates(client, enrolment):
    inspector, device, code = enrolment
    response = client.post("/api/v1/devices/enrol", json={"code": code})
    assert response.status_code == 201
    body = response.get_json()
    assert body["device_id"] == device.id and body["inspector"]["badge_no"] == inspector.badge_no
    limits = client.get("/api/v1/sync/changes?cursor=0", headers={"Authorization": f"Bearer {body['token']}"})
    assert limits.status_code == 200


def test_enrolment_code_works_only_once(client, enrolment):
    code = enrolment[2]
    assert client.post("/api/v1/devices/enrol", json={"code": code}).status_code == 201
    second = client.post("/api/v1/devices/enrol", json={"code": code})
    assert second.status_code == 401
    assert second.get_json()["error"]["fields"] == {"code": ["注册码无效、已使用或已过期"]}


def test_expired_enrolment_code_is_refused(client, app):
    district = factories.jurisdiction()
    inspector = factories.inspector(district)
    _, code = devices.enrol_device(db.session, factories.ACTOR, badge_no=inspector.badge_no, label="x",
                                   code_ttl=timedelta(seconds=-1))
    db.session.commit()
    assert client.post("/api/v1/devices/enrol", json={"code": code}).status_code == 401


def test_enrolment_for_unknown_inspector_is_refused(app):
    from supervision.errors import NotFound

    with pytest.raises(NotFound):
        devices.enrol_device(db.session, factories.ACTOR, badge_no="NOPE", label="x", code_ttl=timedelta(hours=1))


def test_tokens_are_stored_only_as_hashes(client, enrolment):
    token = client.post("/api/v1/devices/enrol", json={"code": enrolment[2]}).get_json()["token"]
    stored = db.session.execute(select(DeviceToken.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_revoked_device_is_refused_on_its_very_next_request(client, field):
    assert client.get("/api/v1/sync/changes?cursor=0", headers=field.headers).status_code == 200
    devices.revoke_device(db.session, factories.ACTOR, field.device.id)
    db.session.commit()
    response = client.get("/api/v1/sync/changes?cursor=0", headers=field.headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "device_revoked"


def test_revoking_twice_is_a_conflict(field):
    from supervision.errors import Conflict

    devices.revoke_device(db.session, factories.ACTOR, field.device.id)
    with pytest.raises(Conflict):
        devices.revoke_device(db.session, factories.ACTOR, field.device.id)


def test_expired_token_is_refused(client, field):
    db.session.execute(DeviceToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.get("/api/v1/sync/changes?cursor=0", headers=field.headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_expired"


def test_missing_or_unknown_token_is_refused(client, field):
    assert client.get("/api/v1/sync/changes?cursor=0").status_code == 401
    unknown = client.get("/api/v1/sync/changes?cursor=0", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert unknown.get_json()["error"]["code"] == "unauthenticated"


def test_rotation_issues_a_new_token_and_the_old_one_lapses_after_grace(client, field):
    rotated = client.post("/api/v1/devices/token/rotate", headers=field.headers)
    assert rotated.status_code == 201
    new_headers = {"Authorization": f"Bearer {rotated.get_json()['token']}"}
    assert client.get("/api/v1/sync/changes?cursor=0", headers=new_headers).status_code == 200
    # Within the grace period the old token still works (a lost rotation response is retried).
    assert client.get("/api/v1/sync/changes?cursor=0", headers=field.headers).status_code == 200
    old = db.session.execute(select(DeviceToken).order_by(DeviceToken.id)).scalars().first()
    assert old.expires_at <= utcnow() + devices.ROTATION_GRACE
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/sync/changes?cursor=0", headers=field.headers).status_code == 401
    assert client.get("/api/v1/sync/changes?cursor=0", headers=new_headers).status_code == 200


def test_device_writes_are_attributed_to_inspector_and_device(client, field):
    client.post("/api/v1/devices/token/rotate", headers=field.headers)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "device.rotate_token")).scalar_one()
    assert entry.actor_ref == f"device:{field.device.id}"
    assert f'"inspector_id":{field.inspector.id}' in entry.payload
    assert f'"badge_no":"{field.inspector.badge_no}"' in entry.payload


def test_cli_enrols_lists_and_revokes_a_device(runner, app):
    district = factories.jurisdiction()
    inspector = factories.inspector(district)
    db.session.commit()
    enrolled = runner.invoke(args=["devices", "enrol", inspector.badge_no, "--label", "一号终端"])
    assert enrolled.exit_code == 0, enrolled.output
    assert "enrolment code:" in enrolled.output
    listed = runner.invoke(args=["devices", "list"])
    assert "一号终端" in listed.output and "awaiting enrolment" in listed.output
    device_id = listed.output.split("\t")[0]
    revoked = runner.invoke(args=["devices", "revoke", device_id])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(args=["devices", "list"]).output


def test_cli_enrol_unknown_badge_fails_with_message(runner, app):
    result = runner.invoke(args=["devices", "enrol", "NOPE"])
    assert result.exit_code == 1
    assert "不存在" in result.output
