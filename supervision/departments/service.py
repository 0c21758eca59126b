"""Departments and their keys; the credit check a department makes by credit code.

A key is shown once when issued and kept only as its SHA-256: a stolen database gives no usable
key. A check answers published facts only (the name, the current published grade, list status,
the number of penalties public today) and is logged, found or not, in `credit_checks`.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit import report as credit_report
from supervision.credit.grading.current import current_grade
from supervision.credit.policies import Policies
from supervision.credit.records import subject_records
from supervision.departments.models import CreditCheck, Department, DepartmentKey
from supervision.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from supervision.modelbase import utcnow
from supervision.registry.models import Establishment

KEY_PREFIX = "hsk_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def add_department(session: Session, actor: audit.Actor, name: str) -> Department:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("部门名称须为 1 至 100 个字符", fields={"name": ["长度不符"]})
    if session.execute(select(Department.id).where(Department.name == name)).first():
        raise Conflict(f"部门“{name}”已存在", fields={"name": ["已存在"]})
    department = Department(name=name)
    session.add(department)
    session.flush()
    audit.record(session, actor, "department_add", department)
    return department


def department_by_name(session: Session, name: str) -> Department:
    department = session.execute(select(Department).where(Department.name == name.strip())).scalar_one_or_none()
    if department is None:
        raise NotFound(f"部门“{name}”不存在", fields={"name": ["不存在"]})
    return department


def issue_key(session: Session, actor: audit.Actor, department_name: str) -> tuple[DepartmentKey, str]:
    """A new key for the department: (its row, the key itself — shown once, never stored)."""
    department = department_by_name(session, department_name)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = DepartmentKey(department_id=department.id, key_hash=key_hash(key), prefix=key[:12])
    session.add(row)
    session.flush()
    audit.record(session, actor, "department_key_issue", row)
    return row, key


def revoke_key(session: Session, actor: audit.Actor, key_id: int) -> DepartmentKey:
    row = session.get(DepartmentKey, key_id)
    if row is None:
        raise NotFound(f"密钥 {key_id} 不存在", fields={"key_id": ["不存在"]})
    if row.revoked_at is not None:
        raise Conflict(f"密钥 {key_id} 已于 {row.revoked_at:%Y-%m-%d %H:%M} 吊销", fields={"key_id": ["已吊销"]})
    before = row.audit_snapshot()
    row.revoked_at = utcnow()
    audit.record(session, actor, "department_key_revoke", row, before=before)
    return row


def list_keys(session: Session) -> list[DepartmentKey]:
    return list(session.execute(select(DepartmentKey).order_by(DepartmentKey.id)).scalars())


def authenticate(session: Session, key: str | None) -> DepartmentKey:
    """The live key presented, or 401: unknown, malformed and revoked keys all look the same."""
    if not key or len(key) > 200:
        raise Unauthenticated("缺少或无效的 API 密钥", fields={"Authorization": ["缺少或无效的 API 密钥"]})
    row = session.execute(select(DepartmentKey).where(DepartmentKey.key_hash == key_hash(key))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("缺少或无效的 API 密钥", fields={"Authorization": ["缺少或无效的 API 密钥"]})
    return row


@dataclass
class CheckAnswer:
    credit_code: str
    name: str
    grade: str | None
    grade_year: int | None
    lists: list[str]
    public_penalties: int
    on: date


def check(session: Session, key: DepartmentKey, credit_code: str, *, on: date) -> CheckAnswer | None:
    """What a department may know about an establishment: published facts only; None when the
    code names nobody. Every call is logged, found or not."""
    code = (credit_code or "").strip().upper()
    establishment = session.execute(select(Establishment).where(Establishment.credit_code == code)
                                    ).scalar_one_or_none() if len(code) == 18 else None
    grade = current_grade(session, establishment.subject_id) if establishment is not None else None
    session.add(CreditCheck(department_id=key.department_id, key_id=key.id, credit_code=code[:32],
                            result="found" if establishment is not None else "not_found",
                            grade=grade.grade if grade else None))
    session.flush()
    if establishment is None:
        return None
    views = subject_records(session, audit.Actor.system("credit-check"), establishment.subject_id, on=on,
                            policies=Policies.current(session))
    return CheckAnswer(establishment.credit_code, establishment.name, grade.grade if grade else None,
                       grade.year if grade else None, credit_report.list_names(session, establishment, on),
                       sum(1 for v in views if v.record.kind == "penalty" and v.publicity.public), on)


def checks_log(session: Session, *, limit: int = 100) -> list[CreditCheck]:
    return list(session.execute(select(CreditCheck).order_by(CreditCheck.id.desc()).limit(limit)).scalars())
