"""Policy kinds of the credit lifecycle (issue 16), each with a packaged default under
`supervision/policy/data/<kind>/default/`: `objections` (decision deadline), `repair`
(eligibility), `credit_lists` (red list / blacklist entry and exit), `early_warning` (warning
rules and interview deadlines)."""
from __future__ import annotations

from dataclasses import dataclass

from supervision import policy
from supervision.credit.grading.policy import GRADES
from supervision.credit.models import SEVERITIES
from supervision.policy import PolicyInvalid, refuse_unknown, require

EVIDENCE = {"fulfilment": "履行完毕证明", "commitment": "信用修复承诺书", "training": "信用修复培训证明"}


def _positive(data: dict, key: str, prefix: str = "", *, zero: bool = False) -> int:
    value = require(data, key, int, prefix=prefix)
    if value < (0 if zero else 1):
        raise PolicyInvalid("应为正整数", key=f"{prefix}.{key}" if prefix else key)
    return value


@dataclass(frozen=True)
class ObjectionRules:
    deadline_working_days: int


def _objections(data: dict) -> ObjectionRules:
    refuse_unknown(data, {"title", "deadline_working_days"})
    require(data, "title", str)
    return ObjectionRules(_positive(data, "deadline_working_days"))


@dataclass(frozen=True)
class RepairRules:
    kinds: tuple[str, ...]
    dishonesty_min_months: int
    require_fulfilled: bool
    refuse_blacklisted: bool
    repeat_window_months: int
    evidence: tuple[str, ...]


def _repair(data: dict) -> RepairRules:
    refuse_unknown(data, {"title", "kinds", "dishonesty_min_months", "require_fulfilled", "refuse_blacklisted",
                          "repeat_window_months", "evidence"})
    require(data, "title", str)
    kinds = tuple(require(data, "kinds", list))
    if not kinds or any(k not in ("penalty", "dishonesty") for k in kinds):
        raise PolicyInvalid("只能为 penalty、dishonesty", key="kinds")
    evidence = tuple(require(data, "evidence", list))
    if any(e not in EVIDENCE for e in evidence):
        raise PolicyInvalid(f"应为 {'、'.join(EVIDENCE)}", key="evidence")
    return RepairRules(kinds, _positive(data, "dishonesty_min_months", zero=True),
                       require(data, "require_fulfilled", bool), require(data, "refuse_blacklisted", bool),
                       _positive(data, "repeat_window_months", zero=True), evidence)


@dataclass(frozen=True)
class ListRules:
    notice_working_days: int
    red_grade: str
    red_years: int
    red_months: int
    black_grades: tuple[str, ...]
    black_severity: str | None
    black_within_months: int
    black_months: int


def _lists(data: dict) -> ListRules:
    refuse_unknown(data, {"title", "notice_working_days", "redlist", "blacklist"})
    require(data, "title", str)
    red = require(data, "redlist", dict)
    refuse_unknown(red, {"grade", "consecutive_years", "period_months"}, prefix="redlist")
    black = require(data, "blacklist", dict)
    refuse_unknown(black, {"grades", "dishonesty_severity", "dishonesty_within_months", "period_months"},
                   prefix="blacklist")
    grade = require(red, "grade", str, prefix="redlist")
    if grade not in GRADES:
        raise PolicyInvalid("应为 A 至 E", key="redlist.grade")
    grades = tuple(require(black, "grades", list, prefix="blacklist"))
    if any(g not in GRADES for g in grades):
        raise PolicyInvalid("应为 A 至 E", key="blacklist.grades")
    severity = black.get("dishonesty_severity")
    if severity is not None and severity not in SEVERITIES:
        raise PolicyInvalid("未知的严重程度", key="blacklist.dishonesty_severity")
    return ListRules(_positive(data, "notice_working_days"), grade, _positive(red, "consecutive_years", "redlist"),
                     _positive(red, "period_months", "redlist"), grades, severity,
                     _positive(black, "dishonesty_within_months", "blacklist"),
                     _positive(black, "period_months", "blacklist"))


@dataclass(frozen=True)
class WarningRules:
    score_drop: int
    failed_inspections: int
    failed_within_months: int
    overdue_rectifications: int
    complaints: int
    complaints_within_months: int
    interview_rectify_working_days: int


def _warnings(data: dict) -> WarningRules:
    names = ("score_drop", "failed_inspections", "failed_within_months", "overdue_rectifications", "complaints",
             "complaints_within_months", "interview_rectify_working_days")
    refuse_unknown(data, {"title", *names})
    require(data, "title", str)
    return WarningRules(*(_positive(data, n) for n in names))


policy.register_kind("objections", _objections)
policy.register_kind("repair", _repair)
policy.register_kind("credit_lists", _lists)
policy.register_kind("early_warning", _warnings)
