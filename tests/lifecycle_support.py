"""Builders for the credit lifecycle tests: a graded establishment, a penalty decision."""
from __future__ import annotations

import itertools
import json
from datetime import date

from sqlalchemy import select

from supervision.credit.models import Penalty
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories

_numbers = itertools.count(1)


def ok(runner, *args) -> str:
    result = runner.invoke(args=[str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def refused(runner, *args) -> str:
    result = runner.invoke(args=[str(a) for a in args])
    assert result.exit_code == 1, result.output
    return result.output


def publish_year(runner, year: int) -> int:
    out = ok(runner, "grade", "run", "--year", year, "--json")
    run_id = json.loads(out.strip().splitlines()[-1])["run_id"]
    ok(runner, "grade", "approve", run_id, "--by", "张主任")
    ok(runner, "grade", "publish", run_id, "--by", "李所长")
    return run_id


def establishment(**overrides):
    if factories._existing("320102") is None:
        factories.jurisdiction()
    return factories.establishment(**overrides)


def penalty(est, *, decided_on: date, fulfilled_on: date | None = None, serious: bool = False,
            procedure: str = "general"):
    """A penalty decision with its credit record, inserted directly."""
    severity = "serious" if serious else ("minor" if procedure == "simple" else "general")
    record = credit.record(est.subject_id, "penalty", code="fine", severity=severity, arose_on=decided_on,
                           title="罚款五千元")
    row = Penalty(decision_no=f"玄卫罚〔{decided_on.year}〕{next(_numbers)}号", issuing_unit_id=est.jurisdiction_id,
                  decided_on=decided_on, penalty_type="fine", amount_fen=500000, procedure=procedure, serious=serious,
                  legal_basis="《公共场所卫生管理条例》", case_summary="无证经营", fulfilled_on=fulfilled_on,
                  establishment_id=est.id, credit_record_id=record.id)
    db.session.add(row)
    db.session.flush()
    return record, row


def penalty_of(record_id):
    return db.session.execute(select(Penalty).where(Penalty.credit_record_id == record_id)).scalar_one()
