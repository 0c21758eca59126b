"""The credit events outbox commits with the change that emits it, or not at all."""
import pytest
from sqlalchemy import func, select

from supervision.credit.events import CreditEvent, emit
from supervision.extensions import db
from supervision.transaction import unit_of_work


def _count():
    return db.session.scalar(select(func.count()).select_from(CreditEvent))


def test_an_event_commits_with_its_unit_of_work(app):
    with unit_of_work(db.session):
        emit(db.session, "grading.published", {"run_id": 7, "year": 2026})
    event = db.session.execute(select(CreditEvent)).scalar_one()
    assert event.payload == {"run_id": 7, "year": 2026} and event.created_at is not None


def test_an_event_of_a_failed_change_is_rolled_back_with_it(app):
    with pytest.raises(RuntimeError):
        with unit_of_work(db.session):
            emit(db.session, "list.entered", {"list": "black"})
            raise RuntimeError("the change failed")
    assert _count() == 0


def test_an_unknown_event_type_is_a_programming_error(app):
    with pytest.raises(ValueError):
        emit(db.session, "grade.changed", {})
