"""Plate tokens: the short code printed in an establishment's QR identity plate.

Tokens use upper-case letters and digits only, so the plate URL fits QR alphanumeric mode
(a smaller, sturdier symbol), and leave out 0/O and 1/I, which people misread when a plate is
too worn to scan and the code is typed by hand.

Token space: 10 characters from a 32-symbol alphabet = 32**10 ≈ 1.1 × 10**15 (50 bits). With a
million establishments one guess in about 10**9 hits a real plate, so a forged plate cannot
borrow a genuine establishment's page by guessing. Length against the symbol: a version 4 symbol
at level Q holds 67 alphanumeric characters; `HTTPS://` + host + path + `/P/` + 10 leaves 46
characters for host and path (see `qr.plate` for the exact check, which refuses a base URL that
does not fit).

A plate is re-issued when it is lost or damaged: the old token is revoked (kept, with the time)
and a new one issued, so a scan of the old plate answers "replaced, since …" rather than "not
genuine" (`resolve_token`).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from supervision import audit
from supervision.errors import NotFound
from supervision.modelbase import utcnow
from supervision.registry import credit_code
from supervision.registry.models import Establishment, PlateToken
from supervision.timeutil import CHINA

TOKEN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TOKEN_LENGTH = 10
TOKEN_COLUMN = 16  # plate_tokens.token
_TOKEN_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

CURRENT, REPLACED, CLOSED, UNKNOWN = "current", "replaced", "closed", "unknown"


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def normalise_token(token: str) -> str:
    """A token as typed or printed: case, spaces and the hyphen of the printed plate number do
    not matter."""
    return "".join((token or "").split()).replace("-", "").upper()


def plate_number(token: str) -> str:
    """The token as printed under the symbol, in two groups of five, for typing by hand."""
    half = len(token) // 2
    return f"{token[:half]}-{token[half:]}"


def could_be_token(token: str) -> bool:
    """Whether a lookup is worth a query: upper-case letters and digits, within the column.
    (Not the exact alphabet and length of `new_token`: plates issued under other rules, e.g.
    imported ones, still resolve.)"""
    return 0 < len(token) <= TOKEN_COLUMN and all(c in _TOKEN_CHARACTERS for c in token)


def _unused_token(session: Session) -> str:
    # 2**50 tokens: a collision is very unlikely, but the unique constraint must never be what
    # finds one (it would fail the whole unit of work).
    while True:
        token = new_token()
        if session.execute(select(PlateToken.id).where(PlateToken.token == token)).first() is None:
            return token


def issue_plate(session: Session, establishment: Establishment, actor: audit.Actor) -> PlateToken:
    """Give the establishment a new plate token, revoking the one it had."""
    now = utcnow()
    for old in establishment.plate_tokens:
        if old.revoked_at is None:
            old.revoked_at = now
            audit.record(session, actor, "plate.revoke", old)
    plate = PlateToken(token=_unused_token(session), establishment=establishment, issued_at=now)
    session.add(plate)
    audit.record(session, actor, "plate.issue", plate)
    return plate


def establishment_by_credit_code(session: Session, code: str) -> Establishment:
    found = session.execute(
        select(Establishment).where(Establishment.credit_code == credit_code.normalise(code or ""))
        .options(selectinload(Establishment.plate_tokens))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"统一社会信用代码为“{code}”的单位不存在", fields={"credit_code": ["单位不存在"]})
    return found


def reissue_plate(session: Session, actor: audit.Actor, code: str) -> PlateToken:
    """Re-issue the plate of the establishment with credit code `code` (lost or damaged plate).
    The CLI and system can act on every jurisdiction; a desk user only on its own."""
    establishment = establishment_by_credit_code(session, code)
    if not actor.covers(establishment.jurisdiction_id):
        raise NotFound(f"统一社会信用代码为“{code}”的单位不存在", fields={"credit_code": ["单位不存在"]})
    return issue_plate(session, establishment, actor)


def current_plate(session: Session, code: str) -> PlateToken:
    establishment = establishment_by_credit_code(session, code)
    plate = establishment.active_plate
    if plate is None:
        raise NotFound("该单位没有有效的二维码身份牌", fields={"credit_code": ["没有有效标牌"]})
    return plate


def establishment_for_token(session: Session, token: str) -> Establishment | None:
    return session.execute(
        select(Establishment)
        .join(PlateToken, PlateToken.establishment_id == Establishment.id)
        .where(PlateToken.token == normalise_token(token), PlateToken.revoked_at.is_(None))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Resolution:
    """What a scanned token leads to.

    state: CURRENT (the establishment's plate in force), CLOSED (in force, but the
    establishment is closed: the page says so), REPLACED (a revoked plate: `replaced_at` says
    from when, `current_token` is the plate in force, if any), UNKNOWN (no such plate: forged or
    mistyped)."""

    state: str
    token: str
    establishment: Establishment | None = None
    replaced_at: datetime | None = None
    current_token: str | None = None

    @property
    def replaced_at_text(self) -> str | None:
        """When the plate was replaced, as people in China read it: 2026年12月4日 18:30."""
        if self.replaced_at is None:
            return None
        local = self.replaced_at.replace(tzinfo=timezone.utc).astimezone(CHINA)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

    @property
    def closed(self) -> bool:
        return self.establishment is not None and self.establishment.status == "closed"


def resolve_token(session: Session, token: str) -> Resolution:
    """Resolve a scanned (or typed) token: one indexed lookup, plus one for the current plate
    when the token was replaced."""
    token = normalise_token(token)
    if not could_be_token(token):
        return Resolution(UNKNOWN, token)
    row = session.execute(
        select(PlateToken, Establishment)
        .join(Establishment, Establishment.id == PlateToken.establishment_id)
        .where(PlateToken.token == token)
    ).first()
    if row is None:
        return Resolution(UNKNOWN, token)
    plate, establishment = row
    if plate.revoked_at is not None:
        current = session.execute(
            select(PlateToken.token).where(PlateToken.establishment_id == establishment.id,
                                           PlateToken.revoked_at.is_(None))
            .order_by(PlateToken.id.desc()).limit(1)
        ).scalar_one_or_none()
        return Resolution(REPLACED, token, establishment, plate.revoked_at, current)
    if establishment.status == "closed":
        return Resolution(CLOSED, token, establishment)
    return Resolution(CURRENT, token, establishment)
