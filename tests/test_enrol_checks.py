"""`devices enrol` only for an inspector who may inspect today: active, with an enforcement
certificate that is valid (not expired, not yet to come)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from supervision.devices.models import Device
from supervision.extensions import db
from tests import factories


def devices() -> int:
    return db.session.scalar(select(func.count()).select_from(Device))


@pytest.fixture
def district(app):
    return factories.jurisdiction()


@pytest.mark.parametrize("valid_from, valid_until, words", [
    (date.today() - timedelta(days=3650), date.today() - timedelta(days=1), "执法证已过期"),
    (date.today() + timedelta(days=2), date.today() + timedelta(days=3650), "执法证尚未生效"),
], ids=["expired", "not yet valid"])
def test_enrol_refuses_an_inspector_whose_certificate_is_not_valid_today(runner, district, valid_from, valid_until,
                                                                          words):
    inspector = factories.inspector(district, valid_from=valid_from, valid_until=valid_until)
    before = devices()
    result = runner.invoke(args=["devices", "enrol", inspector.badge_no])
    assert result.exit_code == 1
    assert words in result.output and inspector.name in result.output and valid_until.isoformat() in result.output
    assert "enrolment code" not in result.output
    assert devices() == before


def test_enrol_refuses_an_inactive_inspector(runner, district):
    inspector = factories.inspector(district)
    inspector.active = False
    db.session.flush()
    result = runner.invoke(args=["devices", "enrol", inspector.badge_no])
    assert result.exit_code == 1 and "已停用" in result.output


def test_enrol_accepts_a_certificate_valid_today(runner, district):
    inspector = factories.inspector(district, valid_from=date.today() - timedelta(days=1),
                                    valid_until=date.today() + timedelta(days=1))
    result = runner.invoke(args=["devices", "enrol", inspector.badge_no])
    assert result.exit_code == 0, result.output
    assert "enrolment code" in result.output
