"""Administrative penalties (行政处罚): deciding a penalty case into a penalty, recording its
fulfilment, listing an establishment's penalties with their publicity.

A decision writes the penalty row and, through `records.record`, the penalty credit record
(kind "penalty", code = the penalty type, severity from the procedure), and closes the case.
The checks follow the Administrative Penalty Law (行政处罚法, 2021): the simple procedure
(简易程序, art. 51) is only for a warning or a fine of at most 200 yuan for a citizen or 3,000
yuan for an organisation; a serious penalty (情节严重) is decided in the general procedure.
Establishments are organisations, so the 3,000 yuan limit applies.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import codes, records
from supervision.credit.calendar import china_date, china_today
from supervision.credit.models import PENALTY_TYPES, PROCEDURES, CreditRecord, Penalty
from supervision.credit.policies import Policies
from supervision.credit.publicity import Publicity, publicity_of
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.inspections.models import PenaltyCase
from supervision.registry.models import Establishment, Jurisdiction

SIMPLE_PROCEDURE_MAX_FINE_FEN = 3000_00  # 行政处罚法 art. 51: organisations, 3,000 yuan
MAX_AMOUNT_FEN = 10 ** 14  # far above any real fine; refuses typos of many digits
_AMOUNT_REQUIRED = {"fine"}
_AMOUNT_FORBIDDEN = {"warning", "suspension", "licence_revocation"}


@dataclass(frozen=True)
class Decision:
    decision_no: str
    decided_on: date
    penalty_type: str
    procedure: str
    legal_basis: str
    amount_fen: int | None = None
    serious: bool = False
    summary: str | None = None  # the case summary when none is given
    issuer_code: str | None = None  # the deciding unit; the establishment's jurisdiction by default
    by: str | None = None  # the named supervisor


def yuan_to_fen(text: str) -> int:
    """"1234.5" → 123450; raises ValueError for anything else than a positive amount with at
    most two decimals."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(text)
    return int(value * 100)


def fen_text(fen: int | None) -> str:
    return "" if fen is None else f"{fen // 100:,}.{fen % 100:02d} 元"


def _issuer(session: Session, code: str | None, default_id: int, problems: dict) -> Jurisdiction | None:
    if not code:
        return session.get(Jurisdiction, default_id)
    unit = session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()
    if unit is None:
        problems.setdefault("issuer", []).append(f"决定机关（辖区代码）“{code}”不存在")
    return unit


def check_decision(d: Decision, opened_on: date | None, today: date) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if not d.decision_no.strip() or len(d.decision_no.strip()) > 64:
        add("decision_no", "处罚决定书文号须为 1–64 个字符")
    if d.penalty_type not in PENALTY_TYPES:
        add("penalty_type", f"未知的处罚种类“{d.penalty_type}”，应为：{'、'.join(PENALTY_TYPES)}")
    if d.procedure not in PROCEDURES:
        add("procedure", f"未知的程序“{d.procedure}”，应为 simple（简易程序）或 general（普通程序）")
    if d.penalty_type in _AMOUNT_REQUIRED and d.amount_fen is None:
        add("amount", "罚款须填写金额")
    if d.penalty_type in _AMOUNT_FORBIDDEN and d.amount_fen is not None:
        add("amount", f"“{codes.PENALTY_TYPE_NAMES[d.penalty_type]}”没有金额")
    if d.amount_fen is not None and not 0 < d.amount_fen <= MAX_AMOUNT_FEN:
        add("amount", "金额须为正数")
    if d.procedure == "simple":
        if d.penalty_type not in ("warning", "fine"):
            add("procedure", "简易程序只适用于警告或者罚款（行政处罚法第五十一条）")
        elif d.amount_fen is not None and d.amount_fen > SIMPLE_PROCEDURE_MAX_FINE_FEN:
            add("procedure", "简易程序对单位的罚款不能超过三千元（行政处罚法第五十一条）")
        if d.serious:
            add("serious", "情节严重的行政处罚须适用普通程序")
    if d.decided_on > today:
        add("decided_on", f"决定日期 {d.decided_on.isoformat()} 晚于今天")
    if opened_on is not None and d.decided_on < opened_on:
        add("decided_on", f"决定日期不能早于立案日期 {opened_on.isoformat()}")
    if not d.legal_basis.strip():
        add("legal_basis", "请填写处罚依据")
    return problems


def _title(d: Decision) -> str:
    kind = codes.PENALTY_TYPE_NAMES[d.penalty_type]
    amount = f" {fen_text(d.amount_fen)}" if d.amount_fen else ""
    serious = "（情节严重）" if d.serious else ""
    return f"行政处罚：{kind}{amount}{serious}（{d.decision_no.strip()}）"


def decide(session: Session, actor: audit.Actor, case_id: int, decision: Decision, *, today: date | None = None,
           policies: Policies | None = None) -> Penalty:
    """Decide penalty case `case_id`: the penalty, its credit record, the case closed."""
    today = today or china_today()
    case = session.execute(select(PenaltyCase).where(PenaltyCase.id == case_id).with_for_update()).scalar_one_or_none()
    if case is None:
        raise NotFound("处罚案件不存在", fields={"case_id": ["处罚案件不存在"]})
    if case.status != "opened":
        raise Conflict("该案件已作出处罚决定", code="already_decided", fields={"case_id": ["案件已结案"]})
    establishment = session.get(Establishment, case.establishment_id)
    return _decide(session, actor, establishment, decision, case=case, opened_on=china_date(case.opened_at),
                   today=today, policies=policies)


def _decide(session, actor, establishment, decision: Decision, *, case, opened_on, today, policies) -> Penalty:
    problems = check_decision(decision, opened_on, today)
    issuer = _issuer(session, decision.issuer_code, establishment.jurisdiction_id, problems)
    if problems:
        raise ValidationFailed("处罚决定未通过校验，未保存", fields=problems)
    number = decision.decision_no.strip()
    taken = session.execute(select(Penalty.id).where(Penalty.issuing_unit_id == issuer.id,
                                                     Penalty.decision_no == number)).scalar()
    if taken is not None:
        raise Conflict(f"{issuer.name}已有文号为“{number}”的处罚决定", code="duplicate_decision",
                       fields={"decision_no": ["文号在本决定机关内已使用"]})
    summary = (decision.summary or (case.summary if case else "") or "").strip()
    if not summary:
        raise ValidationFailed(fields={"summary": ["请填写案情摘要"]})
    fact = records.Fact(
        subject_id=establishment.subject_id, kind="penalty", code=decision.penalty_type,
        severity=codes.penalty_severity(decision.procedure, decision.serious), title=_title(decision),
        arose_on=decision.decided_on, source_type="penalty", source_ref=f"{issuer.code}:{number}",
        producing_unit_id=issuer.id, channel="system", legal_basis=decision.legal_basis.strip(),
        entered_by=decision.by,
        details={"decision_no": number, "procedure": decision.procedure, "serious": decision.serious,
                 "amount_fen": decision.amount_fen, "penalty_case_id": case.id if case else None},
    )
    credit_record = records.record(session, actor, fact, policies=policies)
    penalty = Penalty(
        decision_no=number, issuing_unit_id=issuer.id, decided_on=decision.decided_on,
        penalty_type=decision.penalty_type, amount_fen=decision.amount_fen, procedure=decision.procedure,
        serious=decision.serious, legal_basis=decision.legal_basis.strip(), case_summary=summary,
        penalty_case_id=case.id if case else None, establishment_id=establishment.id,
        credit_record_id=credit_record.id, decided_by=decision.by,
    )
    session.add(penalty)
    acting = records.named(actor, decision.by)
    if case is not None:
        before = case.audit_snapshot()
        case.status = "decided"
        audit.record(session, acting, "penalty_case.decide", case, before=before)
    session.flush()
    audit.record(session, acting, "penalty.decide", penalty)
    return penalty


def penalty_by_number(session: Session, decision_no: str, issuer_code: str) -> Penalty:
    penalty = session.execute(
        select(Penalty).join(Jurisdiction, Jurisdiction.id == Penalty.issuing_unit_id)
        .where(Penalty.decision_no == decision_no.strip(), Jurisdiction.code == issuer_code.strip())
    ).scalar_one_or_none()
    if penalty is None:
        raise NotFound(f"决定机关“{issuer_code}”没有文号为“{decision_no}”的处罚决定",
                       fields={"decision_no": ["处罚决定不存在"]})
    return penalty


def fulfil(session: Session, actor: audit.Actor, decision_no: str, issuer_code: str, on: date, *,
           by: str | None = None, today: date | None = None) -> Penalty:
    """Record that the penalty was fulfilled (履行完毕) on `on`: the first step of credit repair."""
    today = today or china_today()
    penalty = penalty_by_number(session, decision_no, issuer_code)
    if penalty.fulfilled_on is not None:
        raise Conflict(f"该处罚已于 {penalty.fulfilled_on.isoformat()} 履行完毕", code="already_fulfilled")
    if on < penalty.decided_on:
        raise ValidationFailed(fields={"on": [f"履行日期不能早于决定日期 {penalty.decided_on.isoformat()}"]})
    if on > today:
        raise ValidationFailed(fields={"on": [f"履行日期 {on.isoformat()} 晚于今天"]})
    before = {"fulfilled_on": None}
    penalty.fulfilled_on = on
    audit.record(session, records.named(actor, by), "penalty.fulfil", penalty, before=before,
                 after={"fulfilled_on": on})
    return penalty


@dataclass
class PenaltyView:
    penalty: Penalty
    record: CreditRecord | None
    publicity: Publicity
    issuer: Jurisdiction


def establishment_penalties(session: Session, actor: audit.Actor, establishment: Establishment, *, on: date,
                            policies: Policies | None = None) -> list[PenaltyView]:
    """An establishment's penalties, newest first, each with its publicity on `on`."""
    records.visible_establishment(session, actor, establishment.id)
    policies = policies or Policies.current(session)
    rows = session.execute(
        select(Penalty, CreditRecord, Jurisdiction)
        .outerjoin(CreditRecord, CreditRecord.id == Penalty.credit_record_id)
        .join(Jurisdiction, Jurisdiction.id == Penalty.issuing_unit_id)
        .where(Penalty.establishment_id == establishment.id)
        .order_by(Penalty.decided_on.desc(), Penalty.id.desc())
    ).all()
    return [PenaltyView(p, r, publicity_of(p, on=on, policies=policies, record=r), j) for p, r, j in rows]
