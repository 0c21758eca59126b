"""Plate tokens: the short code printed in an establishment's QR identity plate.

Tokens use upper-case letters and digits only, so the plate URL fits QR alphanumeric mode
(a smaller, sturdier symbol), and leave out 0/O and 1/I, which people misread when a plate is
too worn to scan and the code is typed by hand.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment, PlateToken

TOKEN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TOKEN_LENGTH = 10


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def normalise_token(token: str) -> str:
    return (token or "").strip().upper()


def issue_plate(session: Session, establishment: Establishment, actor: audit.Actor) -> PlateToken:
    """Give the establishment a new plate token, revoking the one it had."""
    for old in establishment.plate_tokens:
        if old.revoked_at is None:
            old.revoked_at = utcnow()
            audit.record(session, actor, "plate.revoke", old)
    plate = PlateToken(token=new_token(), establishment=establishment)
    session.add(plate)
    audit.record(session, actor, "plate.issue", plate)
    return plate


def establishment_for_token(session: Session, token: str) -> Establishment | None:
    return session.execute(
        select(Establishment)
        .join(PlateToken, PlateToken.establishment_id == Establishment.id)
        .where(PlateToken.token == normalise_token(token), PlateToken.revoked_at.is_(None))
    ).scalar_one_or_none()
