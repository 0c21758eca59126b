"""Publicity (信用信息公示) of credit records: is a record public on a given day, from when and
until when.

The windows are policy data (kind `publicity`, keyed by jurisdiction and effective date); the
packaged default is the 2023 national rule (NDRC Order No. 58): simple-procedure penalties are
not published; ordinary ones are published for at least 3 and at most 12 months, serious ones
for at least 12 and at most 36 months. The 2019 notice (发改办财金〔2019〕527号) is kept as the
earlier document.

How a window is read:
- A penalty is published from its decision date (the record's `arose_on`) for the maximum
  period: public on D when decided_on <= D < decided_on + max_months, so the last public day
  is the day before that. The minimum period is the earliest date credit repair (issue 16)
  may end it (`repair_from`).
- The rule applied is the one in force on the decision date for the producing unit's
  jurisdiction (most specific first), so a jurisdiction's own rule applies to penalties decided
  from its date on, and never reopens or shortens windows already running.
- A record whose status is repaired, revoked or corrected, or that was superseded, is not
  public; a record under objection stays public, marked as under review (seed 003 §四(七)).
- Other kinds of records: those the policy lists in `records.published_kinds` are public
  without a window (licensing, inspection, bad-practice points: seed 000 §三(三)); the rest
  are internal.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from supervision import policy
from supervision.credit.calendar import add_months
from supervision.credit.models import CREDIT_KINDS, CreditRecord, Penalty
from supervision.policy import PolicyInvalid

KIND = "publicity"
PENALTY_CLASSES = ("simple", "general", "serious")  # simple procedure, general procedure, serious
CLASS_BY_SEVERITY = {"minor": "simple", "general": "general", "serious": "serious"}
NOT_PUBLIC_STATUSES = {"repaired": "已信用修复，停止公示", "revoked": "已撤销，不予公示",
                       "corrected": "已更正，不予公示"}


@dataclass(frozen=True)
class Window:
    published: bool
    min_months: int = 0
    max_months: int = 0


@dataclass(frozen=True)
class PublicityRules:
    title: str
    penalty: dict[str, Window]
    published_kinds: frozenset[str]


def _window(data: object, key: str) -> Window:
    if not isinstance(data, dict):
        raise PolicyInvalid("应为表（table）", key=key)
    policy.refuse_unknown(data, {"published", "min_months", "max_months"}, prefix=key)
    published = policy.require(data, "published", bool, prefix=key)
    if not published:
        if "min_months" in data or "max_months" in data:
            raise PolicyInvalid("不公示的类别不应设置公示期", key=key)
        return Window(False)
    low = policy.require(data, "min_months", int, prefix=key)
    high = policy.require(data, "max_months", int, prefix=key)
    if low < 0:
        raise PolicyInvalid("不能为负数", key=f"{key}.min_months")
    if high <= 0:
        raise PolicyInvalid("必须大于 0", key=f"{key}.max_months")
    if low > high:
        raise PolicyInvalid("最短公示期不能长于最长公示期", key=f"{key}.min_months")
    return Window(True, low, high)


def validate(data: dict) -> PublicityRules:
    policy.refuse_unknown(data, {"title", "basis", "penalty", "records"})
    title = policy.require(data, "title", str)
    policy.require(data, "basis", str)
    penalty = policy.require(data, "penalty", dict)
    policy.refuse_unknown(penalty, PENALTY_CLASSES, prefix="penalty")
    windows = {}
    for name in PENALTY_CLASSES:
        if name not in penalty:
            raise PolicyInvalid("缺少必填项", key=f"penalty.{name}")
        windows[name] = _window(penalty[name], f"penalty.{name}")
    records = policy.require(data, "records", dict)
    policy.refuse_unknown(records, {"published_kinds"}, prefix="records")
    kinds = policy.require(records, "published_kinds", list, prefix="records")
    for i, kind in enumerate(kinds):
        if kind not in CREDIT_KINDS or kind == "penalty":
            raise PolicyInvalid(f"未知或不适用的信用信息类别“{kind}”", key=f"records.published_kinds[{i}]")
    return PublicityRules(title, windows, frozenset(kinds))


policy.register_kind(KIND, validate)


@dataclass(frozen=True)
class Publicity:
    public: bool
    public_from: date | None  # first public day
    public_until: date | None  # last public day (inclusive); None: no end
    repair_from: date | None  # earliest day credit repair may end the publicity
    under_review: bool  # public, but an objection is open
    note: str  # Chinese, for people
    policy_version: str | None = None


def _penalty_publicity(penalty_class: str, decided_on: date, status: str, superseded: bool, on: date,
                       document) -> Publicity:
    rules: PublicityRules = document.value
    window = rules.penalty[penalty_class]
    if not window.published:
        return Publicity(False, None, None, None, False, "适用简易程序的行政处罚信息不予公示", document.version)
    start = decided_on
    until = add_months(start, window.max_months) - timedelta(days=1)
    repair_from = add_months(start, window.min_months)
    if superseded:
        return Publicity(False, start, until, repair_from, False, "已被更正版本取代，不予公示", document.version)
    if status in NOT_PUBLIC_STATUSES:
        return Publicity(False, start, until, repair_from, False, NOT_PUBLIC_STATUSES[status], document.version)
    public = start <= on <= until
    under_review = public and status == "under_objection"
    if on < start:
        note = "尚未开始公示"
    elif on > until:
        note = "公示期已满"
    else:
        note = f"公示期至 {until.isoformat()}" + ("（异议审核中）" if under_review else "")
    return Publicity(public, start, until, repair_from, under_review, note, document.version)


def publicity_of(item: CreditRecord | Penalty, *, on: date, policies, record: CreditRecord | None = None) -> Publicity:
    """Is this credit record (or penalty) public on `on`, and from/until when.

    A penalty's status is that of its credit record: pass it as `record` (else the penalty is
    taken as effective)."""
    if isinstance(item, Penalty):
        status = record.status if record is not None else "effective"
        superseded = record is not None and record.superseded_at is not None
        penalty_class = "serious" if item.serious else item.procedure
        document = policies.resolve(KIND, item.issuing_unit_id, item.decided_on)
        return _penalty_publicity(penalty_class, item.decided_on, status, superseded, on, document)
    document = policies.resolve(KIND, item.producing_unit_id, item.arose_on)
    if item.kind == "penalty":
        return _penalty_publicity(CLASS_BY_SEVERITY.get(item.severity, "general"), item.arose_on, item.status,
                                  item.superseded_at is not None, on, document)
    rules: PublicityRules = document.value
    if item.kind not in rules.published_kinds:
        return Publicity(False, None, None, None, False, "内部记录，不对外公示", document.version)
    if item.superseded_at is not None:
        return Publicity(False, item.arose_on, None, None, False, "已被更正版本取代，不予公示", document.version)
    if item.status in NOT_PUBLIC_STATUSES:
        return Publicity(False, item.arose_on, None, None, False, NOT_PUBLIC_STATUSES[item.status], document.version)
    public = on >= item.arose_on
    under_review = public and item.status == "under_objection"
    return Publicity(public, item.arose_on, None, None, under_review,
                     ("公示中" + ("（异议审核中）" if under_review else "")) if public else "尚未开始公示",
                     document.version)
