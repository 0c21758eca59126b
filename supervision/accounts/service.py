"""Establishment accounts: sign in (with lockout), change and reset passwords, sessions and API
tokens, and the isolation rule of the self-service portal and API (issuing and what an account
holds: `holdings.py`).

Services never commit (see supervision/transaction.py). Sign-in returns its outcome instead of
raising, so that the interface commits the failure count and the audited lock with it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.accounts.models import AccountSession, EstablishmentAccount
from supervision.audit.actor import Actor
from supervision.errors import Forbidden, NotFound, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment

MIN_PASSWORD_LENGTH = 10
DEFAULT_MAX_FAILURES = 5
DEFAULT_LOCK_MINUTES = 15


def hasher() -> PasswordHasher:
    """argon2id with the configured cost; tests configure a cheap one (ARGON2_* keys)."""
    config = current_app.config
    return PasswordHasher(time_cost=config.get("ARGON2_TIME_COST", 3),
                          memory_cost=config.get("ARGON2_MEMORY_KIB", 65536),
                          parallelism=config.get("ARGON2_PARALLELISM", 4))


def initial_password() -> str:
    return secrets.token_urlsafe(12)


def establishment_by_code(session: Session, credit_code: str) -> Establishment:
    establishment = session.execute(
        select(Establishment).where(Establishment.credit_code == credit_code.strip().upper())).scalar_one_or_none()
    if establishment is None:
        raise NotFound("单位不存在", fields={"credit_code": ["没有该统一社会信用代码的单位"]})
    return establishment


def account_by_login(session: Session, login: str) -> EstablishmentAccount | None:
    return session.execute(
        select(EstablishmentAccount).where(EstablishmentAccount.login == login.strip().upper())).scalar_one_or_none()


def reset_account(session: Session, actor: Actor, credit_code: str) -> tuple[EstablishmentAccount, str]:
    """A supervisor resets an account: a new one-time password, the lock lifted, every session ended."""
    require_supervisor(actor)
    account = account_by_login(session, credit_code)
    if account is None:
        raise NotFound("账号不存在", fields={"credit_code": ["该单位没有账号"]})
    before = account.audit_snapshot()
    password = initial_password()
    account.password_hash = hasher().hash(password)
    account.must_change_password = True
    account.failed_attempts = 0
    account.locked_until = None
    revoke_sessions(session, account)
    audit.record(session, actor, "account.reset", account, before=before)
    return account, password


def require_supervisor(actor: Actor) -> None:
    if actor.kind not in ("cli", "user", "system"):
        raise Forbidden("只有监督人员可以办理账号")


@dataclass(frozen=True)
class SignIn:
    account: EstablishmentAccount | None
    error: str | None = None  # a Chinese message when refused


WRONG = "账号或密码错误"


def sign_in(session: Session, login: str, password: str, *, now: datetime | None = None) -> SignIn:
    """Check a password. Failures are counted; reaching the limit locks the account for a while
    (audited). The caller commits whatever the outcome."""
    now = now or utcnow()
    config = current_app.config
    account = account_by_login(session, login or "")
    if account is None:
        hasher().hash(password or "")  # about the same work whether or not the account exists
        return SignIn(None, WRONG)
    if account.locked_until is not None and account.locked_until > now:
        return SignIn(None, f"连续登录失败次数过多，账号已锁定至 {account.locked_until:%Y-%m-%d %H:%M}（UTC），请稍后再试或联系监督机构")
    try:
        hasher().verify(account.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        account.failed_attempts += 1
        if account.failed_attempts >= config.get("ACCOUNT_MAX_FAILURES", DEFAULT_MAX_FAILURES):
            before = account.audit_snapshot()
            account.locked_until = now + timedelta(minutes=config.get("ACCOUNT_LOCK_MINUTES", DEFAULT_LOCK_MINUTES))
            account.failed_attempts = 0
            audit.record(session, Actor.system("portal"), "account.lock", account, before=before)
            return SignIn(None, f"连续登录失败次数过多，账号已锁定至 {account.locked_until:%Y-%m-%d %H:%M}（UTC）")
        return SignIn(None, WRONG)
    account.failed_attempts = 0
    account.locked_until = None
    if hasher().check_needs_rehash(account.password_hash):
        account.password_hash = hasher().hash(password)
    return SignIn(account)


def change_password(session: Session, account: EstablishmentAccount, current: str, new: str, repeat: str, *,
                    keep_token: str | None = None) -> None:
    """A new password. Every other session and API token of the account ends with the old one
    (whoever knew it is signed out); the caller's own, `keep_token`, goes on."""
    errors: dict[str, list[str]] = {}
    try:
        hasher().verify(account.password_hash, current or "")
    except (VerificationError, InvalidHashError):
        errors["current"] = ["当前密码不正确"]
    if len(new or "") < MIN_PASSWORD_LENGTH:
        errors["new"] = [f"新密码至少 {MIN_PASSWORD_LENGTH} 位"]
    elif new == current:
        errors["new"] = ["新密码不能与当前密码相同"]
    if new != repeat:
        errors["repeat"] = ["两次输入的新密码不一致"]
    if errors:
        raise ValidationFailed("密码未修改", fields=errors)
    account.password_hash = hasher().hash(new)
    account.must_change_password = False
    account.password_changed_at = utcnow()
    revoke_sessions(session, account, keep_token=keep_token)
    audit.record(session, actor_of(account), "account.change_password", account)


def open_session(session: Session, account: EstablishmentAccount, *, kind: str = "cookie",
                 ttl: timedelta | None = None) -> str:
    """A new server-side session ("cookie") or API token ("api"); returns its secret (the
    cookie or the client holds it, the table only its hash)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + ttl if ttl is not None else None
    session.add(AccountSession(account_id=account.id, token_hash=_hash(token), kind=kind, expires_at=expires_at))
    audit.record(session, actor_of(account), "account.sign_in", account, after={"kind": kind})
    return token


def _live(session: Session, token: str, kind: str) -> AccountSession | None:
    row = session.execute(select(AccountSession).where(AccountSession.token_hash == _hash(token or ""),
                                                       AccountSession.kind == kind)).scalar_one_or_none()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    return row


def account_of_session(session: Session, token: str, *, kind: str = "cookie") -> EstablishmentAccount | None:
    row = _live(session, token, kind)
    return None if row is None else row.account


def close_session(session: Session, token: str, *, kind: str = "cookie") -> None:
    row = _live(session, token, kind)
    if row is not None:
        row.revoked_at = utcnow()
        audit.record(session, actor_of(row.account), "account.sign_out", row.account, after={"kind": kind})


def revoke_sessions(session: Session, account: EstablishmentAccount, *, keep_token: str | None = None) -> None:
    now = utcnow()
    query = select(AccountSession).where(AccountSession.account_id == account.id, AccountSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(AccountSession.token_hash != _hash(keep_token))
    for row in session.execute(query).scalars():
        row.revoked_at = now


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_of(account: EstablishmentAccount) -> Actor:
    return Actor.establishment(account.id, tuple(sorted(link.establishment_id for link in account.establishments)))


def establishments_of(session: Session, actor: Actor) -> list[Establishment]:
    if not actor.establishment_ids:
        return []
    return list(session.execute(select(Establishment).where(Establishment.id.in_(actor.establishment_ids))
                                .order_by(Establishment.id)).scalars())


def own_establishment(session: Session, actor: Actor, establishment_id: int) -> Establishment:
    """The isolation rule: an establishment account acts only on its own establishments."""
    establishment = session.get(Establishment, establishment_id)
    if establishment is None or establishment_id not in actor.establishment_ids:
        raise Forbidden("无权查看或办理其他单位的信息")
    return establishment


def record_refusal(session: Session, actor: Actor, *, what: str, entity_type: str, entity_id) -> None:
    """Audit a refused attempt on someone else's data (the interface commits it on its own,
    after rolling the refused request back)."""
    audit.record(session, actor, "portal.refused", entity_type=entity_type, entity_id=entity_id,
                 after={"attempt": what})


def own_record(session: Session, actor: Actor, record_id: int):
    """A credit record of one of the caller's establishments, with that establishment."""
    from supervision.credit.models import CreditRecord

    row = session.get(CreditRecord, record_id)
    if row is None:
        raise NotFound("信用信息不存在", fields={"record_id": ["信用信息不存在"]})
    establishment = session.execute(select(Establishment).where(Establishment.subject_id == row.subject_id)).scalar_one_or_none()
    if establishment is None or establishment.id not in actor.establishment_ids:
        raise Forbidden("无权查看或办理其他单位的信息")
    return row, establishment


def own_objection(session: Session, actor: Actor, objection_id: int):
    from supervision.credit.lifecycle_models import Objection

    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound("异议不存在", fields={"objection_id": ["异议不存在"]})
    if objection.establishment_id not in actor.establishment_ids:
        raise Forbidden("无权查看或办理其他单位的信息")
    return objection


def objections_of(session: Session, actor: Actor, establishment_id: int):
    from supervision.credit.lifecycle_models import Objection

    own_establishment(session, actor, establishment_id)
    return list(session.execute(select(Objection).where(Objection.establishment_id == establishment_id)
                                .order_by(Objection.id.desc())).scalars())


def own_repair(session: Session, actor: Actor, repair_id: int):
    from supervision.credit.lifecycle_models import RepairApplication

    application = session.get(RepairApplication, repair_id)
    if application is None:
        raise NotFound("修复申请不存在", fields={"repair_id": ["不存在"]})
    if application.establishment_id not in actor.establishment_ids:
        raise Forbidden("无权查看或办理其他单位的信息")
    return application


def repairs_of_record(session: Session, actor: Actor, record_id: int):
    from supervision.credit.lifecycle_models import RepairApplication

    own_record(session, actor, record_id)
    return list(session.execute(select(RepairApplication).where(RepairApplication.record_id == record_id)
                                .order_by(RepairApplication.id.desc())).scalars())
