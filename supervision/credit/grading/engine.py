"""The set-based scorer: a handful of SQL statements whatever the number of establishments.

Everything is computed into three temporary tables of the session's connection:

- ``gr_subjects``: the subjects to grade (which establishments, or the subjects of a stored run
  when verifying), each with its policy group;
- ``gr_records``: every record that counts, with the points and rule its policy gives and a
  hash of the record as it is now;
- ``gr_grades``: score, grade and the hard rule that capped it, per subject.

`runs` copies them into `grades` and `grade_contributions`; `verify` compares them with what
is stored. The policy is compiled into CASE expressions, so the points of a record, the rule key
and the policy document are computed by the database in the same scan that selects the records.
Only validated policy values are inlined (integers, dates, and codes matching
``[a-z][a-z0-9_]*``); nothing typed by a user reaches the SQL text.

A policy *group* is a set of jurisdictions that resolve to the same documents; usually there is
one group (everyone under the default), and then no group condition is emitted at all.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from supervision.credit.grading.policy import GRADES, GradingPolicy
from supervision.database import is_postgresql
from supervision.policy import PolicyDocument

COUNTING_STATUSES = ("effective", "under_objection")
_SAFE = re.compile(r"^[A-Za-z0-9_.\-]*$")
LIST_BATCH = 1000


def doc_key(document: PolicyDocument) -> tuple:
    return (document.jurisdiction, document.effective_from, document.sha256)


@dataclass
class Group:
    index: int
    jurisdiction_ids: list[int]  # empty for the practitioners' group
    document: PolicyDocument  # in force on the last day of the year: windows, grades, hard rules
    segments: list[tuple[date, PolicyDocument]]  # points: each document from its date
    practitioners: bool = False

    @property
    def policy(self) -> GradingPolicy:
        return self.document.value


@dataclass
class Plan:
    """What to compute: the year, the instant after which entries don't count, the groups, and
    the database id of every document used (stored with the run)."""

    year: int
    as_of: datetime
    groups: list[Group]
    policy_ids: dict[tuple, int]
    list_members: Callable[[str, date], Iterable[int]] = lambda name, on: ()
    period_end: date = field(init=False)

    def __post_init__(self):
        self.period_end = date(self.year, 12, 31)


def _lit(value) -> str:
    """Inline a validated policy value."""
    if isinstance(value, bool):
        raise TypeError("no booleans in policy SQL")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    if isinstance(value, str) and _SAFE.match(value):
        return f"'{value}'"
    raise ValueError(f"refusing to inline {value!r}")


def record_hash_sql(dialect_pg: bool, alias: str = "r") -> str:
    """SHA-256 of the fields of a record that grading depends on, computed by the database."""
    r = alias
    parts = [f"CAST({r}.id AS TEXT)", f"CAST({r}.subject_id AS TEXT)", f"{r}.kind", f"COALESCE({r}.code, '')",
             f"{r}.severity", f"{r}.status", f"COALESCE(CAST({r}.practice_points AS TEXT), '')",
             f"CAST({r}.arose_on AS TEXT)", f"CAST({r}.entered_at AS TEXT)",
             f"COALESCE(CAST({r}.superseded_at AS TEXT), '')", f"{r}.title"]
    joined = " || '|' || ".join(parts)
    if dialect_pg:
        return f"encode(sha256(convert_to({joined}, 'UTF8')), 'hex')"
    return f"hs_sha256({joined})"


def _sqlite_functions(session: Session) -> None:
    raw = session.connection().connection.driver_connection
    raw.create_function("hs_sha256", 1, lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest() if s is not None else None,
                        deterministic=True)


def _doc_cases(plan: Plan, document: PolicyDocument) -> tuple[str, str, str]:
    """CASE expressions for (points, rule key, policy id) of a record under one document."""
    policy: GradingPolicy = document.value
    points, keys = [], []
    for kind, rule in policy.points.items():
        k = _lit(kind)
        for code, value in rule.by_code.items():
            cond = f"r.kind = {k} AND r.code = {_lit(code)}"
            points.append(f"WHEN {cond} THEN {_lit(value)}")
            keys.append(f"WHEN {cond} THEN {_lit(f'points.{kind}.codes.{code}')}")
        if rule.per_point is not None:
            points.append(f"WHEN r.kind = {k} THEN {_lit(rule.per_point)} * COALESCE(r.practice_points, 0)")
            keys.append(f"WHEN r.kind = {k} THEN {_lit(f'points.{kind}.per_point')}")
            continue
        for severity, value in rule.by_severity.items():
            points.append(f"WHEN r.kind = {k} AND r.severity = {_lit(severity)} THEN {_lit(value)}")
        keys.append(f"WHEN r.kind = {k} THEN {_lit(f'points.{kind}.')} || r.severity")
    points_sql = f"CASE {' '.join(points)} ELSE 0 END" if points else "0"
    keys_sql = f"CASE {' '.join(keys)} ELSE 'points.' || r.kind END" if keys else "'points.' || r.kind"
    return points_sql, keys_sql, _lit(plan.policy_ids[doc_key(document)])


def _by_date(segments: list[tuple[date, PolicyDocument]], pick: Callable[[PolicyDocument], str]) -> str:
    if len(segments) == 1:
        return pick(segments[0][1])
    whens = [f"WHEN r.arose_on < {_lit(segments[i + 1][0])} THEN {pick(doc)}" for i, (_, doc) in enumerate(segments[:-1])]
    return f"CASE {' '.join(whens)} ELSE {pick(segments[-1][1])} END"


def _by_group(plan: Plan, pick: Callable[[Group], str], column: str = "s.grp") -> str:
    if len(plan.groups) == 1:
        return pick(plan.groups[0])
    whens = " ".join(f"WHEN {g.index} THEN {pick(g)}" for g in plan.groups)
    return f"CASE {column} {whens} END"


def _window(group: Group, year: int) -> str:
    policy = group.policy
    kinds = " OR ".join(f"(r.kind = {_lit(kind)} AND r.arose_on >= {_lit(policy.window_start(kind, year))})"
                        for kind in policy.windows)
    return f"({kinds})" if kinds else "(1 = 0)"


# --- the steps --------------------------------------------------------------------------------

# A run's joins and aggregates over millions of rows spill to disk with PostgreSQL's default
# 4 MB work_mem (591 MB of temporary files at 1M establishments); a yearly batch job may use more
# for its own transaction only.
PG_WORK_MEM = "128MB"


def prepare(session: Session) -> None:
    if is_postgresql(session.get_bind()):
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
    else:
        _sqlite_functions(session)
    for name in ("gr_grades", "gr_records", "gr_subjects"):
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(text("CREATE TEMPORARY TABLE gr_subjects (subject_id INTEGER PRIMARY KEY, establishment_id INTEGER, "
                         "jurisdiction_id INTEGER, category_code VARCHAR(32), grp INTEGER NOT NULL)"))
    session.execute(text("CREATE TEMPORARY TABLE gr_records (subject_id INTEGER NOT NULL, record_id INTEGER NOT NULL, "
                         "kind VARCHAR(32), code VARCHAR(64), severity VARCHAR(16), points INTEGER NOT NULL, "
                         "rule_key VARCHAR(100) NOT NULL, policy_ref INTEGER NOT NULL, record_hash VARCHAR(64) NOT NULL)"))
    session.execute(text("CREATE TEMPORARY TABLE gr_grades (subject_id INTEGER PRIMARY KEY, grade_id INTEGER, establishment_id INTEGER, "
                         "jurisdiction_id INTEGER, category_code VARCHAR(32), grp INTEGER NOT NULL, score INTEGER NOT NULL, "
                         "grade VARCHAR(1) NOT NULL, hard_rule VARCHAR(64), policy_ref INTEGER NOT NULL)"))


def drop(session: Session) -> None:
    for name in ("gr_grades", "gr_records", "gr_subjects"):
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _group_of_jurisdiction(plan: Plan, column: str) -> str:
    groups = [g for g in plan.groups if not g.practitioners]
    if len(groups) == 1:
        return str(groups[0].index)
    whens = " ".join(f"WHEN {column} IN ({', '.join(_lit(j) for j in g.jurisdiction_ids)}) THEN {g.index}"
                     for g in groups)
    return f"CASE {whens} END"


def subjects_from_scope(session: Session, plan: Plan, producing_scope: str) -> None:
    """Active establishments of the scope (where their group's policy grades establishments);
    practitioners with a record produced in the scope (where the policy grades them)."""
    est_groups = [g for g in plan.groups if not g.practitioners and "establishment" in g.policy.graded_subjects]
    if est_groups:
        ids = [j for g in est_groups for j in g.jurisdiction_ids]
        where = f"e.jurisdiction_id IN ({', '.join(_lit(j) for j in ids)})" if ids else "1 = 0"
        session.execute(text(
            "INSERT INTO gr_subjects (subject_id, establishment_id, jurisdiction_id, category_code, grp) "
            f"SELECT e.subject_id, e.id, e.jurisdiction_id, e.category_code, {_group_of_jurisdiction(plan, 'e.jurisdiction_id')} "
            f"FROM establishments e WHERE e.status = 'active' AND {where}"))
    for group in plan.groups:
        if group.practitioners and "practitioner" in group.policy.graded_subjects:
            session.execute(text(
                "INSERT INTO gr_subjects (subject_id, establishment_id, jurisdiction_id, category_code, grp) "
                f"SELECT cs.id, NULL, NULL, NULL, {group.index} FROM credit_subjects cs "
                "WHERE cs.kind = 'practitioner' AND EXISTS (SELECT 1 FROM credit_records r WHERE r.subject_id = cs.id "
                f"AND r.status IN ('effective', 'under_objection') AND r.superseded_at IS NULL "
                f"AND r.arose_on <= :period_end AND r.entered_at < :as_of AND {producing_scope})"),
                {"period_end": plan.period_end, "as_of": plan.as_of})


def subjects_from_run(session: Session, plan: Plan, run_id: int) -> None:
    practitioners = next((g.index for g in plan.groups if g.practitioners), -1)
    session.execute(text(
        "INSERT INTO gr_subjects (subject_id, establishment_id, jurisdiction_id, category_code, grp) "
        "SELECT g.subject_id, g.establishment_id, g.jurisdiction_id, g.category_code, "
        f"CASE WHEN g.establishment_id IS NULL THEN {practitioners} ELSE {_group_of_jurisdiction(plan, 'g.jurisdiction_id')} END "
        "FROM grades g WHERE g.run_id = :run"), {"run": run_id})


def score(session: Session, plan: Plan, progress: Callable[[str], None] = lambda step: None, *,
          allocate_ids: bool = True) -> None:
    pg = is_postgresql(session.get_bind())
    points = _by_group(plan, lambda g: _by_date(g.segments, lambda d: _doc_cases(plan, d)[0]))
    keys = _by_group(plan, lambda g: _by_date(g.segments, lambda d: _doc_cases(plan, d)[1]))
    refs = _by_group(plan, lambda g: _by_date(g.segments, lambda d: _doc_cases(plan, d)[2]))
    if len(plan.groups) == 1:
        window = _window(plan.groups[0], plan.year)
    else:
        window = "(" + " OR ".join(f"(s.grp = {g.index} AND {_window(g, plan.year)})" for g in plan.groups) + ")"
    session.execute(text(
        "INSERT INTO gr_records (subject_id, record_id, kind, code, severity, points, rule_key, policy_ref, record_hash) "
        f"SELECT r.subject_id, r.id, r.kind, r.code, r.severity, {points}, {keys}, {refs}, {record_hash_sql(pg)} "
        # SQLite would walk the arose_on index once per kind and fetch rows in random order; one
        # sequential pass over the table is several times faster when most rows are in a window.
        f"FROM credit_records r{'' if pg else ' NOT INDEXED'} JOIN gr_subjects s ON s.subject_id = r.subject_id "
        "WHERE r.status IN ('effective', 'under_objection') AND r.superseded_at IS NULL "
        f"AND r.arose_on <= :period_end AND r.entered_at < :as_of AND {window}"),
        {"period_end": plan.period_end, "as_of": plan.as_of})
    progress("records")

    def clamp(g: Group) -> str:
        p = g.policy
        raw = f"({_lit(p.base)} + COALESCE(a.points, 0))"
        return f"CASE WHEN {raw} < {_lit(p.minimum)} THEN {_lit(p.minimum)} WHEN {raw} > {_lit(p.maximum)} " \
               f"THEN {_lit(p.maximum)} ELSE {raw} END"

    def grade(g: Group) -> str:
        whens = " ".join(f"WHEN x.score >= {_lit(g.policy.thresholds[letter])} THEN '{letter}'" for letter in GRADES[:-1])
        return f"CASE {whens} ELSE 'E' END"

    # Grade ids are taken now (PostgreSQL: from the table's sequence; SQLite: above the largest,
    # writes being serialised there), so storing needs no join back to `grades`.
    if not allocate_ids:
        grade_id = "NULL"
    elif pg:
        grade_id = "nextval(pg_get_serial_sequence('grades', 'id'))"
    else:
        grade_id = f"{int(session.execute(text('SELECT COALESCE(MAX(id), 0) FROM grades')).scalar_one())} + x.subject_id"
    session.execute(text(
        "INSERT INTO gr_grades (subject_id, grade_id, establishment_id, jurisdiction_id, category_code, grp, score, grade, "
        "hard_rule, policy_ref) "
        f"SELECT x.subject_id, {grade_id}, x.establishment_id, x.jurisdiction_id, x.category_code, x.grp, x.score, "
        f"{_by_group(plan, grade, 'x.grp')}, NULL, {_by_group(plan, lambda g: _lit(plan.policy_ids[doc_key(g.document)]), 'x.grp')} "
        f"FROM (SELECT s.subject_id, s.establishment_id, s.jurisdiction_id, s.category_code, s.grp, {_by_group(plan, clamp)} AS score "
        "FROM gr_subjects s LEFT JOIN (SELECT subject_id, SUM(points) AS points FROM gr_records GROUP BY subject_id) a "
        "ON a.subject_id = s.subject_id) x"))
    progress("grades")
    _hard_rules(session, plan)
    progress("hard_rules")


def _hard_rules(session: Session, plan: Plan) -> None:
    """Caps, the harshest first: a subject caught by several rules shows the harshest."""
    for group in plan.groups:
        only_group = "" if len(plan.groups) == 1 else f" AND grp = {group.index}"
        rules = sorted(group.policy.hard_rules, key=lambda r: GRADES.index(r.at_most), reverse=True)
        for rule in rules:
            head = (f"UPDATE gr_grades SET grade = {_lit(rule.at_most)}, hard_rule = {_lit(rule.key)} "
                    f"WHERE hard_rule IS NULL AND grade <= {_lit(rule.at_most)}{only_group}")
            if rule.list_name is not None:
                members = sorted(set(plan.list_members(rule.list_name, plan.period_end)))
                for start in range(0, len(members), LIST_BATCH):
                    batch = ", ".join(_lit(int(m)) for m in members[start:start + LIST_BATCH])
                    session.execute(text(f"{head} AND subject_id IN ({batch})"))
                continue
            conds = [f"kind = {_lit(rule.kind)}"]
            if rule.code:
                conds.append(f"code = {_lit(rule.code)}")
            if rule.severity:
                conds.append(f"severity = {_lit(rule.severity)}")
            session.execute(text(f"{head} AND subject_id IN (SELECT subject_id FROM gr_records WHERE {' AND '.join(conds)})"))
