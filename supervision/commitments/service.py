"""Showing and signing the commitment letter.

An establishment's own account signs for it, in the name of its registered legal
representative, exactly the text it was shown: the page carries the hash of the text it
displayed, and signing refuses a hash that no longer matches (the letter or the name changed
meanwhile). There is no update: a later version is signed anew, and every signature stays.
Services never commit (supervision/transaction.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supervision import audit
from supervision.audit.actor import Actor
from supervision.commitments import letter as letters
from supervision.commitments.models import CommitmentLetter
from supervision.credit.calendar import china_today
from supervision.credit.policies import Policies
from supervision.errors import Conflict, Forbidden, ValidationFailed
from supervision.registry.models import Establishment

ENTITY_TYPE = "commitment_letters"
TEXT_CHANGED = "承诺书文本已更新，请重新阅读"
ALREADY_SIGNED = "已签署当前版本"


@dataclass(frozen=True)
class Letter:
    """The letter as shown to one establishment today: its version, title, text and hash."""

    version: str
    title: str
    text: str
    text_sha256: str


def letter_for(session: Session, establishment: Establishment, *, on: date | None = None,
               policies: Policies | None = None) -> Letter:
    """The letter in force for the establishment's jurisdiction, with its name and code filled in."""
    policies = policies or Policies.current(session)
    document = policies.resolve(letters.KIND, establishment.jurisdiction_id, on or china_today())
    value: letters.LetterPolicy = document.value
    text = letters.fill(value, name=establishment.name, credit_code=establishment.credit_code)
    return Letter(value.version, value.title, text, letters.sha256_of(text))


def current(session: Session, establishment_id: int) -> CommitmentLetter | None:
    """The latest signature of the establishment, or None. Public (the plate page shows it)."""
    return session.execute(
        select(CommitmentLetter).where(CommitmentLetter.establishment_id == establishment_id)
        .order_by(CommitmentLetter.id.desc()).limit(1)).scalar_one_or_none()


def current_of(session: Session, establishment_ids: list[int]) -> dict[int, CommitmentLetter]:
    """The latest signature of each establishment, in one query (for sync pages)."""
    if not establishment_ids:
        return {}
    newest = (select(func.max(CommitmentLetter.id)).where(CommitmentLetter.establishment_id.in_(establishment_ids))
              .group_by(CommitmentLetter.establishment_id))
    rows = session.execute(select(CommitmentLetter).where(CommitmentLetter.id.in_(newest))).scalars()
    return {row.establishment_id: row for row in rows}


def needs_signature(signed: CommitmentLetter | None, shown: Letter) -> bool:
    """Unsigned, or signed under another version than the one in force."""
    return signed is None or signed.letter_version != shown.version


def normalise_name(name: str | None) -> str:
    """Names compared as people type them: runs of whitespace (full-width ones too) as one."""
    return " ".join((name or "").split())


def sign(session: Session, actor: Actor, establishment_id: int, *, signer_name: str, pledge: bool,
         text_sha256: str, on: date | None = None, policies: Policies | None = None) -> CommitmentLetter:
    """The legal representative signs the letter in force, exactly as it was shown."""
    establishment = session.get(Establishment, establishment_id)
    if actor.kind != "establishment" or establishment is None or establishment_id not in actor.establishment_ids:
        raise Forbidden("只有本单位账号可以签署本单位的信用承诺书")
    shown = letter_for(session, establishment, on=on, policies=policies)
    problems: dict[str, list[str]] = {}
    name = normalise_name(signer_name)
    if not name:
        problems["signer_name"] = ["请填写法定代表人（负责人）姓名"]
    elif name != normalise_name(establishment.legal_representative):
        problems["signer_name"] = ["签署人须为登记的法定代表人（负责人），姓名与登记信息不一致"]
    if pledge is not True:
        problems["pledge"] = ["请阅读承诺书并勾选承诺"]
    if problems:
        raise ValidationFailed("承诺书未签署", fields=problems)
    if (text_sha256 or "").strip().lower() != shown.text_sha256:
        raise Conflict(TEXT_CHANGED, code="letter_changed", fields={"text_sha256": [TEXT_CHANGED]})
    signed = current(session, establishment_id)
    if not needs_signature(signed, shown):
        raise Conflict(ALREADY_SIGNED, code="already_signed", fields={"letter_version": [ALREADY_SIGNED]})
    signature = CommitmentLetter(establishment_id=establishment_id, letter_version=shown.version, text=shown.text,
                                 text_sha256=shown.text_sha256, signer_name=name,
                                 account_id=actor.details["account_id"])
    try:
        with audit.savepoint(session):
            session.add(signature)
            session.flush()
    except IntegrityError:
        # A second signing of the same version that raced this one committed first.
        raise Conflict(ALREADY_SIGNED, code="already_signed", fields={"letter_version": [ALREADY_SIGNED]}) from None
    audit.record(session, actor, "commitment.sign", signature)
    return signature
