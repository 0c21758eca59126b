"""Builders for the public-site tests: penalties through their real path (an inspection, a
penalty case, a decision on the command line), a published grade, a plate page's token."""
from __future__ import annotations

import itertools
import json
import re

from sqlalchemy import select

from supervision.credit import records
from supervision.credit.calendar import china_today
from supervision.credit.models import Penalty
from supervision.extensions import db
from supervision.registry.models import PlateToken
from supervision.transaction import unit_of_work
from tests import factories
from tests.test_penalties import open_case

_numbers = itertools.count(1)


def token_of(est) -> str:
    return db.session.execute(select(PlateToken.token).where(PlateToken.establishment_id == est.id,
                                                             PlateToken.revoked_at.is_(None))).scalar_one()


def penalty(client, runner, field, *, number: str | None = None, on=None) -> Penalty:
    case_id = open_case(client, field)
    number = number or f"玄卫罚〔2026〕{next(_numbers)}号"
    result = runner.invoke(args=[
        "penalties", "decide", str(case_id), "--decision-no", number, "--on", (on or china_today()).isoformat(),
        "--type", "fine", "--procedure", "general", "--legal-basis", "《公共场所卫生管理条例》第十四条",
        "--by", "张科长", "--amount", "5000"])
    assert result.exit_code == 0, result.output
    return db.session.execute(select(Penalty).where(Penalty.decision_no == number)).scalar_one()


def change_status(penalty_row: Penalty, status: str) -> None:
    with unit_of_work(db.session):
        records.change_status(db.session, factories.ACTOR, penalty_row.credit_record_id, status, "测试", by="张科长")


def publish_grades(runner, year: int = 2025) -> int:
    result = runner.invoke(args=["grade", "run", "--year", str(year), "--json"])
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.output.strip().splitlines()[-1])["run_id"]
    for args in (["grade", "approve", str(run_id), "--by", "张主任"], ["grade", "publish", str(run_id), "--by", "李所长"]):
        outcome = runner.invoke(args=args)
        assert outcome.exit_code == 0, outcome.output
    return run_id


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
