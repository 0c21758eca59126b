"""Enrolling terminals and checking their tokens.

A supervisor enrols a device for an inspector and gets a one-time code; the device trades the
code for a bearer token. Tokens expire, can be rotated by the device, and die with their device
when it is revoked (a lost terminal): the check runs against the database on every request, so
a revoked token is refused on its very next request.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from supervision import audit
from supervision.devices.models import Device, DeviceToken, EnrolmentCode
from supervision.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Inspector
from supervision.timeutil import CHINA

# After rotation the old token keeps working this long, so a device whose rotation response
# was lost on a bad connection can retry instead of being locked out.
ROTATION_GRACE = timedelta(minutes=10)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    device: Device


@dataclass(frozen=True)
class DeviceIdentity:
    """Who is on the other end of an authenticated request."""

    device: Device
    inspector: Inspector

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor.device(self.device.id, self.inspector.id, self.inspector.badge_no,
                                  jurisdiction_id=self.inspector.jurisdiction_id)


def enrol_device(session: Session, actor: audit.Actor, *, badge_no: str, label: str, code_ttl: timedelta,
                 today: date | None = None) -> tuple[Device, str]:
    """Create a device for an inspector who may inspect today; return it with its one-time
    enrolment code."""
    inspector = session.execute(select(Inspector).where(Inspector.badge_no == badge_no)).scalar_one_or_none()
    _check_may_inspect(inspector, badge_no, today)
    device = Device(inspector=inspector, label=label)
    session.add(device)
    code = _new_code(session, device, code_ttl)
    audit.record(session, actor, "device.create", device)
    return device, code


def reissue_enrolment_code(session: Session, actor: audit.Actor, device: Device, *, code_ttl: timedelta,
                           today: date | None = None) -> str:
    """A fresh one-time code for a device that has not enrolled yet (its code was lost or ran
    out); the earlier codes keep their own expiry."""
    if device.revoked_at is not None:
        raise Conflict("设备已停用", fields={"device_id": ["设备已停用"]})
    if device.enrolled_at is not None:
        raise Conflict("设备已注册，无需新的注册码", fields={"device_id": ["设备已注册"]})
    _check_may_inspect(device.inspector, device.inspector.badge_no, today)
    code = _new_code(session, device, code_ttl)
    audit.record(session, actor, "device.reissue_code", device)
    return code


def _check_may_inspect(inspector: Inspector | None, badge_no: str, today: date | None) -> None:
    """Only an active inspector whose enforcement certificate is valid today (China time) gets
    a device: any other would sync, and then have every submission naming them refused."""
    if inspector is None or not inspector.active:
        raise NotFound(f"执法人员“{badge_no}”不存在或已停用", fields={"badge_no": ["执法人员不存在或已停用"]})
    today = today or datetime.now(CHINA).date()
    if not inspector.certificate_valid_on(today):
        state = "已过期" if today > inspector.certificate_valid_until else "尚未生效"
        validity = (f"{inspector.certificate_valid_from.isoformat()} 至 "
                    f"{inspector.certificate_valid_until.isoformat()}")
        raise ValidationFailed(
            f"执法人员“{inspector.name}”（{badge_no}）的执法证{state}（有效期 {validity}），不能为其注册终端",
            code="certificate_not_valid", fields={"badge_no": [f"执法证{state}（有效期 {validity}）"]})


def _new_code(session: Session, device: Device, code_ttl: timedelta) -> str:
    code = "-".join(secrets.token_hex(3).upper() for _ in range(4))
    session.add(EnrolmentCode(device=device, code_hash=_hash(code.replace("-", "")), expires_at=utcnow() + code_ttl))
    return code


def exchange_enrolment_code(session: Session, code: str, *, token_ttl: timedelta) -> IssuedToken:
    """Trade a one-time code for the device's first token. A code works once."""
    normalised = (code or "").replace("-", "").replace(" ", "").upper()
    row = session.execute(
        select(EnrolmentCode).options(joinedload(EnrolmentCode.device).joinedload(Device.inspector))
        .where(EnrolmentCode.code_hash == _hash(normalised))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at < now or row.device.revoked_at is not None:
        raise Unauthenticated("注册码无效、已使用或已过期", fields={"code": ["注册码无效、已使用或已过期"]})
    # Mark used with a conditional update so two devices racing with one code cannot both win.
    claimed = session.execute(
        update(EnrolmentCode).where(EnrolmentCode.id == row.id, EnrolmentCode.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise Unauthenticated("注册码无效、已使用或已过期", fields={"code": ["注册码无效、已使用或已过期"]})
    device = row.device
    device.enrolled_at = now
    identity = DeviceIdentity(device, device.inspector)
    issued = _issue_token(session, device, token_ttl)
    audit.record(session, identity.actor, "device.enrol", device)
    return issued


def _issue_token(session: Session, device: Device, ttl: timedelta) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    expires = utcnow() + ttl
    session.add(DeviceToken(device=device, token_hash=_hash(token), expires_at=expires))
    return IssuedToken(token, expires, device)


def authenticate(session: Session, token: str | None) -> DeviceIdentity:
    if not token:
        raise Unauthenticated("缺少设备令牌")
    row = session.execute(
        select(DeviceToken)
        .options(joinedload(DeviceToken.device).joinedload(Device.inspector))
        .where(DeviceToken.token_hash == _hash(token))
    ).scalar_one_or_none()
    now = utcnow()
    if row is None:
        raise Unauthenticated("设备令牌无效")
    if row.device.revoked_at is not None:
        raise Unauthenticated("该设备已被停用（挂失），请联系管理员", code="device_revoked")
    if row.revoked_at is not None:
        raise Unauthenticated("设备令牌已作废", code="token_revoked")
    if row.expires_at <= now:
        raise Unauthenticated("设备令牌已过期，请重新注册设备", code="token_expired")
    if not row.device.inspector.active:
        raise Unauthenticated("执法人员已停用", code="inspector_inactive")
    return DeviceIdentity(row.device, row.device.inspector)


def rotate_token(session: Session, identity: DeviceIdentity, current_token: str, *, token_ttl: timedelta) -> IssuedToken:
    """Issue a new token; the current one lapses after a short grace period."""
    current = session.execute(select(DeviceToken).where(DeviceToken.token_hash == _hash(current_token))).scalar_one()
    current.expires_at = min(current.expires_at, utcnow() + ROTATION_GRACE)
    issued = _issue_token(session, identity.device, token_ttl)
    audit.record(session, identity.actor, "device.rotate_token", identity.device,
                 after={"device_id": identity.device.id, "old_token_id": current.id})
    return issued


def revoke_device(session: Session, actor: audit.Actor, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound("设备不存在", fields={"device_id": ["设备不存在"]})
    if device.revoked_at is not None:
        raise Conflict("设备已停用")
    before = device.audit_snapshot()
    now = utcnow()
    device.revoked_at = now
    session.execute(
        update(DeviceToken).where(DeviceToken.device_id == device.id, DeviceToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    audit.record(session, actor, "device.revoke", device, before=before)
    return device


def list_devices(session: Session) -> list[Device]:
    return list(session.execute(select(Device).options(joinedload(Device.inspector)).order_by(Device.id)).scalars())


def check_label(label: str) -> str:
    label = (label or "").strip()
    if not label or len(label) > 64:
        raise ValidationFailed(fields={"label": ["设备名称不能为空且不超过64个字符"]})
    return label
