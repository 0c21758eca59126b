"""A random-inspection plan (抽查计划): a TOML file, validated with the key and the reason of each
problem. What a plan leaves out (ratios, coverage floor, inspectors per target, fallback,
workload tolerance) comes from the dated `sampling` policy of its first jurisdiction.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from supervision import policy
from supervision.errors import ValidationFailed
from supervision.jsonutil import canonical_json

KIND = "sampling"
STRATA = ("A", "B", "C", "D", "E", "ungraded")
FALLBACKS = ("district", "none")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class PlanInvalid(ValidationFailed):
    code = "plan_invalid"


@dataclass(frozen=True)
class Rules:
    """The sampling policy, or the part of a plan that overrides it."""

    ratios: dict  # stratum -> percent as a string of a decimal number, e.g. "12.5"
    min_coverage: str
    inspectors_per_target: int
    inspector_fallback: str
    workload_tolerance: int


@dataclass(frozen=True)
class Plan:
    code: str
    title: str
    specialty: str
    period_start: date
    period_end: date
    jurisdictions: tuple[str, ...]
    grids: tuple[str, ...]
    categories: tuple[str, ...]
    matters: tuple[str, ...]  # 随机抽查事项
    checklist: str
    ratios: dict  # stratum -> percent (string), every stratum present once resolved
    min_coverage: str
    inspectors_per_target: int
    inspector_fallback: str
    workload_tolerance: int

    def as_dict(self) -> dict:
        return {
            "code": self.code, "title": self.title, "specialty": self.specialty,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "scope": {"jurisdictions": list(self.jurisdictions), "grids": list(self.grids),
                      "categories": list(self.categories)},
            "items": {"matters": list(self.matters), "checklist": self.checklist},
            "ratios": dict(self.ratios), "min_coverage": self.min_coverage,
            "inspectors_per_target": self.inspectors_per_target, "inspector_fallback": self.inspector_fallback,
            "workload_tolerance": self.workload_tolerance,
        }

    def digest(self) -> str:
        """SHA-256 of the resolved plan's canonical JSON: what the seed is bound to."""
        return hashlib.sha256(canonical_json(self.as_dict()).encode("utf-8")).hexdigest()

    def ratio(self, stratum: str) -> Fraction:
        return Fraction(self.ratios[stratum]) / 100

    @property
    def coverage(self) -> Fraction:
        return Fraction(self.min_coverage) / 100

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        """The inverse of as_dict (for a stored or exported plan)."""
        return cls(
            code=data["code"], title=data["title"], specialty=data["specialty"],
            period_start=date.fromisoformat(data["period"]["start"]), period_end=date.fromisoformat(data["period"]["end"]),
            jurisdictions=tuple(data["scope"]["jurisdictions"]), grids=tuple(data["scope"]["grids"]),
            categories=tuple(data["scope"]["categories"]), matters=tuple(data["items"]["matters"]),
            checklist=data["items"]["checklist"], ratios=dict(data["ratios"]), min_coverage=data["min_coverage"],
            inspectors_per_target=data["inspectors_per_target"], inspector_fallback=data["inspector_fallback"],
            workload_tolerance=data["workload_tolerance"],
        )


def _fail(key: str, reason: str, cls=PlanInvalid):
    if cls is policy.PolicyInvalid:
        raise policy.PolicyInvalid(reason, key=key)
    raise PlanInvalid(f"抽查计划无效：[{key}] {reason}", fields={key: [reason]})


def _percent(value, key: str, cls) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(key, "应为 0 到 100 之间的百分数", cls)
    number = Fraction(str(value))
    if not 0 <= number <= 100:
        _fail(key, "应为 0 到 100 之间的百分数", cls)
    return str(value)


def _rules(data: dict, *, cls, partial: bool) -> dict:
    """The sampling keys of a policy document (all required) or of a plan (all optional)."""
    out: dict = {}
    ratios = data.get("ratios")
    if ratios is not None:
        if not isinstance(ratios, dict):
            _fail("ratios", "应为表（A、B、C、D、E、ungraded）", cls)
        for key in ratios:
            if key not in STRATA:
                _fail(f"ratios.{key}", f"未知的分层，应为 {'、'.join(STRATA)} 之一", cls)
        out["ratios"] = {s: _percent(ratios[s], f"ratios.{s}", cls) for s in STRATA if s in ratios}
        if not partial and len(out["ratios"]) != len(STRATA):
            missing = [s for s in STRATA if s not in ratios]
            _fail(f"ratios.{missing[0]}", "缺少该分层的抽查比例", cls)
    elif not partial:
        _fail("ratios", "缺少抽查比例", cls)
    if "min_coverage" in data:
        out["min_coverage"] = _percent(data["min_coverage"], "min_coverage", cls)
    elif not partial:
        _fail("min_coverage", "缺少最低覆盖率", cls)
    if "inspectors_per_target" in data:
        value = data["inspectors_per_target"]
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 5:
            _fail("inspectors_per_target", "应为 2 到 5 之间的整数（执法检查至少两人）", cls)
        out["inspectors_per_target"] = value
    elif not partial:
        _fail("inspectors_per_target", "缺少每个对象的检查人员数", cls)
    if "inspector_fallback" in data:
        if data["inspector_fallback"] not in FALLBACKS:
            _fail("inspector_fallback", "应为 district（本区县）或 none（不跨网格）", cls)
        out["inspector_fallback"] = data["inspector_fallback"]
    elif not partial:
        _fail("inspector_fallback", "缺少跨网格的备选范围", cls)
    if "workload_tolerance" in data:
        value = data["workload_tolerance"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            _fail("workload_tolerance", "应为 0 到 1000 之间的整数", cls)
        out["workload_tolerance"] = value
    elif not partial:
        _fail("workload_tolerance", "缺少工作量均衡容差", cls)
    return out


def _validate_policy(data: dict) -> Rules:
    return Rules(**_rules(data, cls=policy.PolicyInvalid, partial=False))


policy.register_kind(KIND, _validate_policy)

_TOP_KEYS = {"code", "title", "specialty", "period", "scope", "items", "ratios", "min_coverage",
             "inspectors_per_target", "inspector_fallback", "workload_tolerance"}


def _text(data: dict, key: str, path: str, limit: int = 200) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        _fail(path, "缺少或不是文本")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        _fail(path, f"应为不超过 {limit} 字的单行文本")
    return value.strip()


def _list(data: dict, key: str, path: str, *, required: bool) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and len(v) <= 200 for v in value):
        _fail(path, "应为文本列表")
    if required and not value:
        _fail(path, "至少需要一项")
    return tuple(v.strip() for v in value)


def _table(data: dict, key: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        _fail(key, "缺少该表")
    return value


def parse_partial(text: str) -> dict:
    """Parse and check a plan's TOML; the result still lacks the policy defaults."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanInvalid(f"抽查计划不是有效的 TOML：{exc}", fields={"_plan": [str(exc)]}) from None
    return check_partial(data)


def check_partial(data: dict) -> dict:
    for key in data:
        if key not in _TOP_KEYS:
            _fail(key, "未知的键")
    code = _text(data, "code", "code", 64)
    if not _CODE.match(code):
        _fail("code", "只能包含字母、数字、- 和 _，最多 64 个字符")
    period = _table(data, "period")
    for key in ("start", "end"):
        if not isinstance(period.get(key), date) or isinstance(period.get(key), datetime):
            _fail(f"period.{key}", "应为日期，如 2027-03-01")
    if period["end"] < period["start"]:
        _fail("period.end", "结束日期早于开始日期")
    scope, items = _table(data, "scope"), _table(data, "items")
    return {
        "code": code, "title": _text(data, "title", "title"), "specialty": _text(data, "specialty", "specialty", 64),
        "period_start": period["start"], "period_end": period["end"],
        "jurisdictions": _list(scope, "jurisdictions", "scope.jurisdictions", required=True),
        "grids": _list(scope, "grids", "scope.grids", required=False),
        "categories": _list(scope, "categories", "scope.categories", required=False),
        "matters": _list(items, "matters", "items.matters", required=True),
        "checklist": _text(items, "checklist", "items.checklist", 64),
        "rules": _rules(data, cls=PlanInvalid, partial=True),
    }


def resolve(partial: dict, defaults: Rules) -> Plan:
    """The plan with every rule it leaves out taken from the policy in force."""
    rules = partial["rules"]
    ratios = {**defaults.ratios, **rules.get("ratios", {})}
    fields = {k: v for k, v in partial.items() if k != "rules"}
    return Plan(**fields, ratios=ratios,
                min_coverage=rules.get("min_coverage", defaults.min_coverage),
                inspectors_per_target=rules.get("inspectors_per_target", defaults.inspectors_per_target),
                inspector_fallback=rules.get("inspector_fallback", defaults.inspector_fallback),
                workload_tolerance=rules.get("workload_tolerance", defaults.workload_tolerance))


EXAMPLE = '''\
# A double-random inspection plan (双随机抽查计划). Run it with: supervision draw run PLAN_FILE
# Every key left out of the sampling rules below comes from the `sampling` policy in force for
# the first jurisdiction on the period's first day (seed defaults: A 5 %, B 20 %, C 50 %,
# D and E 100 %, not yet graded 20 %, coverage at least 20 %, two inspectors per target).

code = "2027-GGCS-01"                 # letters, digits, - and _; a plan's draws share it
title = "2027年公共场所卫生双随机抽查"
specialty = "公共场所卫生"              # 专业
min_coverage = 20                     # percent of all candidates at least
inspectors_per_target = 2             # at least 2
inspector_fallback = "district"       # when the grid has too few: "district" or "none"
workload_tolerance = 1                # most targets minus fewest, among a grid's inspectors

[period]                              # inspectors' certificates must be valid all of it
start = 2027-03-01
end = 2027-06-30

[scope]
jurisdictions = ["320102"]            # administrative division codes; their sub-areas too
grids = []                            # grid codes; empty: every grid of the jurisdictions
categories = ["accommodation"]        # establishment categories; empty: every category

[items]
matters = ["公共场所卫生许可情况", "从业人员健康检查情况"]   # 随机抽查事项
checklist = "accommodation"        # the checklist (template) code to use

[ratios]                              # percent drawn of each credit grade stratum
A = 5
B = 20
C = 50
D = 100
E = 100
ungraded = 20                         # establishments without a published grade
'''
