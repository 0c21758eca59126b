"""Which establishments an account holds: issuing an account for one or several establishments
of one legal person, granting and revoking one later, and showing an account to a supervisor.

"One legal person" is judged on what the registry holds: the legal representative's name
(whitespace ignored). An establishment is held by one account at most (a unique index too), so
whoever signs in for it is never in doubt. Services never commit.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.accounts.models import AccountEstablishment, AccountSession, EstablishmentAccount
from supervision.accounts.service import (
    account_by_login,
    establishment_by_code,
    hasher,
    initial_password,
    require_supervisor,
)
from supervision.audit.actor import Actor
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment


def _person(establishment: Establishment) -> str:
    return "".join((establishment.legal_representative or "").split())


def _holder(session: Session, establishment: Establishment) -> EstablishmentAccount | None:
    return session.execute(
        select(EstablishmentAccount).join(AccountEstablishment)
        .where(AccountEstablishment.establishment_id == establishment.id)).scalar_one_or_none()


def _check_free_and_same_person(session: Session, establishments: list[Establishment], person: str) -> None:
    errors: list[str] = []
    for establishment in establishments:
        holder = _holder(session, establishment)
        if holder is not None:
            errors.append(f"{establishment.credit_code} 已由账号 {holder.login} 管理")
        if _person(establishment) != person:
            errors.append(f"{establishment.credit_code} 的法定代表人（{establishment.legal_representative}）"
                          "与账号所属单位不同，一个账号只能管理同一法人的单位")
    if errors:
        raise Conflict("不能将这些单位归入该账号", fields={"credit_code": errors})


def issue_account(session: Session, actor: Actor, credit_codes: list[str]) -> tuple[EstablishmentAccount, str]:
    """A supervisor issues an account for one establishment, or for several of one legal person;
    the first credit code is the sign-in name. Returns it and its one-time initial password
    (shown once, stored only as a hash; the first sign-in must replace it)."""
    require_supervisor(actor)
    codes = list(dict.fromkeys(code.strip().upper() for code in credit_codes if code and code.strip()))
    if not codes:
        raise ValidationFailed(fields={"credit_code": ["请至少给出一个统一社会信用代码"]})
    establishments = [establishment_by_code(session, code) for code in codes]
    if account_by_login(session, establishments[0].credit_code) is not None:
        raise Conflict("该单位已有账号，如需重新设置请使用 reset", fields={"credit_code": ["账号已存在"]})
    _check_free_and_same_person(session, establishments, _person(establishments[0]))
    password = initial_password()
    account = EstablishmentAccount(login=establishments[0].credit_code, password_hash=hasher().hash(password),
                                   must_change_password=True, failed_attempts=0)
    for establishment in establishments:
        account.establishments.append(AccountEstablishment(establishment_id=establishment.id))
    session.add(account)
    session.flush()
    audit.record(session, actor, "account.issue", account,
                 after={"login": account.login, "establishment_ids": [e.id for e in establishments]})
    return account, password


def _account(session: Session, login: str) -> EstablishmentAccount:
    account = account_by_login(session, login)
    if account is None:
        raise NotFound("账号不存在", fields={"login": ["没有该账号"]})
    return account


def grant(session: Session, actor: Actor, login: str, credit_code: str) -> EstablishmentAccount:
    """Add an establishment of the same legal person to an account. Its sessions see it on
    their next request (the actor is rebuilt from the account every time)."""
    require_supervisor(actor)
    account = _account(session, login)
    establishment = establishment_by_code(session, credit_code)
    first = session.get(Establishment, account.establishments[0].establishment_id)
    _check_free_and_same_person(session, [establishment], _person(first))
    account.establishments.append(AccountEstablishment(establishment_id=establishment.id))
    session.flush()
    audit.record(session, actor, "account.grant", account, after={"establishment_id": establishment.id})
    return account


def revoke(session: Session, actor: Actor, login: str, credit_code: str) -> EstablishmentAccount:
    """Take an establishment away from an account (sold, closed, split). The establishment the
    sign-in name comes from stays: to move it, reset or issue a new account."""
    require_supervisor(actor)
    account = _account(session, login)
    establishment = establishment_by_code(session, credit_code)
    link = next((link for link in account.establishments if link.establishment_id == establishment.id), None)
    if link is None:
        raise NotFound("该账号不管理此单位", fields={"credit_code": ["不在该账号下"]})
    if establishment.credit_code == account.login:
        raise Conflict("不能移除账号登录名所属的单位", fields={"credit_code": ["这是账号的登录单位"]})
    account.establishments.remove(link)
    session.flush()
    audit.record(session, actor, "account.revoke", account, after={"establishment_id": establishment.id})
    return account


@dataclass(frozen=True)
class AccountView:
    account: EstablishmentAccount
    establishments: list[Establishment]
    open_sessions: int
    locked: bool


def describe(session: Session, actor: Actor, login: str) -> AccountView:
    require_supervisor(actor)
    account = _account(session, login)
    establishments = list(session.execute(
        select(Establishment).join(AccountEstablishment, AccountEstablishment.establishment_id == Establishment.id)
        .where(AccountEstablishment.account_id == account.id).order_by(Establishment.id)).scalars())
    now = utcnow()
    open_sessions = session.execute(select(func.count()).select_from(AccountSession).where(
        AccountSession.account_id == account.id, AccountSession.revoked_at.is_(None),
        (AccountSession.expires_at.is_(None)) | (AccountSession.expires_at > now))).scalar_one()
    return AccountView(account, establishments, open_sessions,
                       account.locked_until is not None and account.locked_until > now)

