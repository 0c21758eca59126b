"""The grading policy (信用分级评价规则) as data: policy kind ``grading``.

A document says, for the jurisdictions and dates it covers: the base score and its bounds; the
points each kind of record gives, by severity or by sub-kind (code), or per bad-practice point;
how many years each kind of record counts; the grade thresholds; the hard rules that cap a grade
whatever the score; the yearly calendar; and which kinds of credit subject are graded.

Two dates decide which document applies (docs/grading.md, "Which policy applies"):
- a record's points come from the document in force, for the subject's jurisdiction, on the day
  the record *arose* — a rule changed mid-year applies from its date, never backwards;
- everything else (windows, thresholds, hard rules, calendar, subjects) comes from the document
  in force on the last day of the graded year.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Iterable

from supervision import policy
from supervision.credit.models import CREDIT_KINDS, SEVERITIES
from supervision.policy import PolicyDocument, PolicyInvalid, PolicySet, refuse_unknown, require
from supervision.timeutil import CHINA

KIND = "grading"
GRADES = ("A", "B", "C", "D", "E")
SUBJECT_KINDS = ("establishment", "practitioner")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class KindPoints:
    """Points of one record kind: by code first, then per bad-practice point, then by severity."""

    by_severity: dict[str, int]
    by_code: dict[str, int]
    per_point: int | None


@dataclass(frozen=True)
class HardRule:
    key: str
    title: str
    at_most: str  # the best grade a subject caught by the rule can get
    kind: str | None = None
    code: str | None = None
    severity: str | None = None
    list_name: str | None = None  # a credit list (e.g. the blacklist) instead of a record


@dataclass(frozen=True)
class Calendar:
    cutoff: tuple[int, int]  # (month, day) of the next year
    grading: tuple[int, int]
    publication: tuple[int, int]

    def day(self, which: str, year: int) -> date:
        month, day = getattr(self, which)
        return date(year + 1, month, day)

    def cutoff_instant(self, year: int) -> datetime:
        """The end of the cut-off day in China, as naive UTC (how `entered_at` is stored)."""
        end = datetime.combine(self.day("cutoff", year) + timedelta(days=1), time(0), CHINA)
        return end.astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class GradingPolicy:
    base: int
    minimum: int
    maximum: int
    thresholds: dict[str, int]  # lowest score of A, B, C, D; below D's is E
    windows: dict[str, int]  # years a record of the kind counts; kinds not named never count
    points: dict[str, KindPoints]
    hard_rules: tuple[HardRule, ...]
    calendar: Calendar
    graded_subjects: tuple[str, ...]

    def window_start(self, kind: str, year: int) -> date:
        return date(year - self.windows[kind] + 1, 1, 1)

    def grade_for(self, score: int) -> str:
        for grade in GRADES[:-1]:
            if score >= self.thresholds[grade]:
                return grade
        return "E"

    def points_for(self, kind: str, code: str | None, severity: str, practice_points: int | None) -> tuple[int, str]:
        """(points, rule key) of one record. The SQL engine compiles the same decision."""
        rule = self.points.get(kind)
        if rule is None:
            return 0, f"points.{kind}"
        if code is not None and code in rule.by_code:
            return rule.by_code[code], f"points.{kind}.codes.{code}"
        if rule.per_point is not None:
            return rule.per_point * (practice_points or 0), f"points.{kind}.per_point"
        return rule.by_severity.get(severity, 0), f"points.{kind}.{severity}"


def _int(data: dict, key: str, prefix: str) -> int:
    return require(data, key, int, prefix=prefix)


def _month_day(data: dict, key: str) -> tuple[int, int]:
    text = require(data, key, str, prefix="calendar")
    match = _MONTH_DAY.match(text)
    try:
        if not match:
            raise ValueError
        date(2001, int(match.group(1)), int(match.group(2)))  # a non-leap year: no 02-29
    except ValueError:
        raise PolicyInvalid("应为 MM-DD 格式的日期（不可为 02-29）", key=f"calendar.{key}") from None
    return int(match.group(1)), int(match.group(2))


def validate(data: dict) -> GradingPolicy:
    refuse_unknown(data, {"score", "grades", "windows", "points", "hard_rules", "calendar", "subjects"})
    score = require(data, "score", dict)
    refuse_unknown(score, {"base", "min", "max"}, prefix="score")
    base, low, high = _int(score, "base", "score"), _int(score, "min", "score"), _int(score, "max", "score")
    if not low <= base <= high:
        raise PolicyInvalid("须满足 min ≤ base ≤ max", key="score.base")

    grades = require(data, "grades", dict)
    refuse_unknown(grades, GRADES[:-1], prefix="grades")
    thresholds = {g: _int(grades, g, "grades") for g in GRADES[:-1]}
    for better, worse in zip(GRADES[:-2], GRADES[1:-1]):
        if thresholds[better] <= thresholds[worse]:
            raise PolicyInvalid(f"{better} 级分数线须高于 {worse} 级", key=f"grades.{better}")

    windows_data = require(data, "windows", dict)
    refuse_unknown(windows_data, CREDIT_KINDS, prefix="windows")
    windows = {}
    for kind, years in windows_data.items():
        if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 10:
            raise PolicyInvalid("应为 1 至 10 之间的整数（年）", key=f"windows.{kind}")
        windows[kind] = years

    points_data = require(data, "points", dict)
    refuse_unknown(points_data, CREDIT_KINDS, prefix="points")
    points = {}
    for kind, table in points_data.items():
        prefix = f"points.{kind}"
        if not isinstance(table, dict):
            raise PolicyInvalid("应为表", key=prefix)
        refuse_unknown(table, {*SEVERITIES, "codes", "per_point"}, prefix=prefix)
        by_severity = {s: _int(table, s, prefix) for s in SEVERITIES if s in table}
        codes = table.get("codes", {})
        if not isinstance(codes, dict):
            raise PolicyInvalid("应为表", key=f"{prefix}.codes")
        for code, value in codes.items():
            if not _CODE.match(code):
                raise PolicyInvalid("代码只能含小写字母、数字和下划线", key=f"{prefix}.codes.{code}")
            if isinstance(value, bool) or not isinstance(value, int):
                raise PolicyInvalid("类型错误，应为 int", key=f"{prefix}.codes.{code}")
        per_point = _int(table, "per_point", prefix) if "per_point" in table else None
        points[kind] = KindPoints(by_severity, dict(codes), per_point)
    for kind in points:
        if kind not in windows:
            raise PolicyInvalid("给了分值却没有计分年限（windows）", key=f"points.{kind}")

    hard_rules = []
    seen = set()
    for index, rule in enumerate(data.get("hard_rules", [])):
        prefix = f"hard_rules[{index}]"
        if not isinstance(rule, dict):
            raise PolicyInvalid("应为表", key=prefix)
        refuse_unknown(rule, {"key", "title", "at_most", "kind", "code", "severity", "list"}, prefix=prefix)
        key = require(rule, "key", str, prefix=prefix)
        if not _CODE.match(key) or key in seen:
            raise PolicyInvalid("键须唯一，且只含小写字母、数字和下划线", key=f"{prefix}.key")
        seen.add(key)
        at_most = require(rule, "at_most", str, prefix=prefix)
        if at_most not in GRADES:
            raise PolicyInvalid("应为 A 至 E 之一", key=f"{prefix}.at_most")
        kind, list_name = rule.get("kind"), rule.get("list")
        if (kind is None) == (list_name is None):
            raise PolicyInvalid("须且只须给出 kind（按记录）或 list（按名单）之一", key=prefix)
        if kind is not None and kind not in CREDIT_KINDS:
            raise PolicyInvalid("未知的记录类型", key=f"{prefix}.kind")
        if kind is not None and kind not in windows:
            raise PolicyInvalid("该类记录不计入评价（windows 中没有）", key=f"{prefix}.kind")
        code = rule.get("code")
        if code is not None and (not isinstance(code, str) or not _CODE.match(code)):
            raise PolicyInvalid("代码只能含小写字母、数字和下划线", key=f"{prefix}.code")
        if list_name is not None and (not isinstance(list_name, str) or not _CODE.match(list_name)):
            raise PolicyInvalid("名单名只能含小写字母、数字和下划线", key=f"{prefix}.list")
        severity = rule.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise PolicyInvalid("未知的严重程度", key=f"{prefix}.severity")
        if list_name is not None and (rule.get("code") or severity):
            raise PolicyInvalid("按名单的规则不能再限定 code 或 severity", key=prefix)
        hard_rules.append(HardRule(key, require(rule, "title", str, prefix=prefix), at_most, kind,
                                   rule.get("code"), severity, list_name))

    calendar_data = require(data, "calendar", dict)
    refuse_unknown(calendar_data, {"cutoff", "grading", "publication"}, prefix="calendar")
    calendar = Calendar(*(_month_day(calendar_data, k) for k in ("cutoff", "grading", "publication")))
    if not calendar.cutoff <= calendar.grading <= calendar.publication:
        raise PolicyInvalid("须满足 截止日 ≤ 评价日 ≤ 公布日", key="calendar.grading")

    subjects = require(data, "subjects", dict)
    refuse_unknown(subjects, {"graded"}, prefix="subjects")
    graded = require(subjects, "graded", list, prefix="subjects")
    if not graded or any(s not in SUBJECT_KINDS for s in graded):
        raise PolicyInvalid("应为 establishment、practitioner 中的一个或多个", key="subjects.graded")
    return GradingPolicy(base, low, high, thresholds, windows, points, tuple(hard_rules), calendar,
                         tuple(dict.fromkeys(graded)))


policy.register_kind(KIND, validate)


def load(roots: Iterable[Path | str | None] = ()) -> PolicySet:
    return PolicySet.load(KIND, roots)


def from_documents(documents: Iterable[PolicyDocument]) -> PolicySet:
    """A policy set made of stored documents (a run's), without reading any file."""
    return PolicySet(KIND, documents)


def resolve(policies: PolicySet, chain: list[str], on: date) -> PolicyDocument:
    """The document in force on `on`; before the first document of the chain, that first one
    (records older than any policy are scored under the oldest policy there is)."""
    try:
        return policies.resolve(chain, on)
    except PolicyInvalid:
        candidates = [d for code in [*chain, policy.DEFAULT_JURISDICTION] for d in policies.documents(code)]
        if not candidates:
            raise
        return min(candidates, key=lambda d: d.effective_from)


def segments(policies: PolicySet, chain: list[str], start: date, end: date) -> list[tuple[date, PolicyDocument]]:
    """[(from, document)] covering [start, end] for one jurisdiction chain, oldest first: each
    document applies from its date until the next one's."""
    change_days = sorted({d.effective_from for code in [*chain, policy.DEFAULT_JURISDICTION]
                          for d in policies.documents(code) if start < d.effective_from <= end})
    result = [(start, resolve(policies, chain, start))]
    for day in change_days:
        document = resolve(policies, chain, day)
        if document.path != result[-1][1].path or document.sha256 != result[-1][1].sha256:
            result.append((day, document))
    return result
