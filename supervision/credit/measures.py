"""The catalogue of reward and restriction measures (激励/惩戒措施清单) as policy data, and the
automatic matching of the measures that apply to an establishment (信用监管措施自动匹配,
seed 003 §四(五)).

Policy kind ``credit_measures``: a list of measures, each a reward or a restriction, with
conditions that must all hold: the current grade is one of `grades`; the subject is on one of
`lists`; it has a counting record of `record_kind` (optionally `record_code`,
`record_severity`) that arose within `within_years` of the day asked about.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import policy
from supervision.credit.grading import lists
from supervision.credit.grading.policy import GRADES
from supervision.credit.grading.current import current_grade
from supervision.credit.models import CREDIT_KINDS, SEVERITIES, CreditRecord
from supervision.policy import PolicyInvalid, PolicySet, jurisdiction_chain, refuse_unknown, require
from supervision.registry.models import Establishment

KIND = "credit_measures"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Measure:
    key: str
    type: str  # "reward" or "restriction"
    title: str
    basis: str
    grades: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    record_kind: str | None = None
    record_code: str | None = None
    record_severity: str | None = None
    within_years: int = 1


def validate(data: dict) -> tuple[Measure, ...]:
    refuse_unknown(data, {"measures"})
    measures, seen = [], set()
    for index, item in enumerate(require(data, "measures", list)):
        prefix = f"measures[{index}]"
        if not isinstance(item, dict):
            raise PolicyInvalid("应为表", key=prefix)
        refuse_unknown(item, {"key", "type", "title", "basis", "grades", "lists", "record_kind", "record_code",
                              "record_severity", "within_years"}, prefix=prefix)
        key = require(item, "key", str, prefix=prefix)
        if not _KEY.match(key) or key in seen:
            raise PolicyInvalid("键须唯一，且只含小写字母、数字和下划线", key=f"{prefix}.key")
        seen.add(key)
        kind = require(item, "type", str, prefix=prefix)
        if kind not in ("reward", "restriction"):
            raise PolicyInvalid("应为 reward 或 restriction", key=f"{prefix}.type")
        grades = tuple(item.get("grades", ()))
        if any(g not in GRADES for g in grades):
            raise PolicyInvalid("应为 A 至 E", key=f"{prefix}.grades")
        record_kind = item.get("record_kind")
        if record_kind is not None and record_kind not in CREDIT_KINDS:
            raise PolicyInvalid("未知的记录类型", key=f"{prefix}.record_kind")
        severity = item.get("record_severity")
        if severity is not None and severity not in SEVERITIES:
            raise PolicyInvalid("未知的严重程度", key=f"{prefix}.record_severity")
        within = item.get("within_years", 1)
        if isinstance(within, bool) or not isinstance(within, int) or within < 1:
            raise PolicyInvalid("应为正整数", key=f"{prefix}.within_years")
        if not grades and not item.get("lists") and record_kind is None:
            raise PolicyInvalid("至少须有一个条件（grades、lists 或 record_kind）", key=prefix)
        measures.append(Measure(key, kind, require(item, "title", str, prefix=prefix), item.get("basis", ""),
                                grades, tuple(item.get("lists", ())), record_kind, item.get("record_code"), severity,
                                within))
    return tuple(measures)


policy.register_kind(KIND, validate)


@dataclass(frozen=True)
class Match:
    measure: Measure
    because: str


def match_measures(session: Session, establishment: Establishment, *, on: date,
                   roots: Iterable[Path | str | None] = (), list_members=None) -> list[Match]:
    """Every measure whose conditions all hold for the establishment on the given day."""
    document = PolicySet.load(KIND, roots).resolve(jurisdiction_chain(establishment.jurisdiction), on)
    grade = current_grade(session, establishment.subject_id)
    records = list(session.execute(select(CreditRecord.kind, CreditRecord.code, CreditRecord.severity,
                                          CreditRecord.arose_on)
                                   .where(CreditRecord.subject_id == establishment.subject_id,
                                          CreditRecord.status.in_(("effective", "under_objection")),
                                          CreditRecord.superseded_at.is_(None), CreditRecord.arose_on <= on)).all())
    members = list_members or (lambda name, day: lists.members(session, name, day))
    result = []
    for measure in document.value:
        reasons = []
        if measure.grades:
            if grade is None or grade.grade not in measure.grades:
                continue
            reasons.append(f"{grade.year} 年度信用等级 {grade.grade}")
        if measure.lists:
            on_lists = [name for name in measure.lists if establishment.subject_id in set(members(name, on))]
            if not on_lists:
                continue
            reasons.append(f"列入名单 {'、'.join(on_lists)}")
        if measure.record_kind:
            since = date(on.year - measure.within_years, on.month, min(on.day, 28))
            hits = [r for r in records if r.kind == measure.record_kind and r.arose_on > since
                    and (measure.record_code is None or r.code == measure.record_code)
                    and (measure.record_severity is None or r.severity == measure.record_severity)]
            if not hits:
                continue
            reasons.append(f"{measure.within_years} 年内有 {len(hits)} 条相关记录")
        result.append(Match(measure, "；".join(reasons)))
    return result
