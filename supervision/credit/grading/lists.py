"""Credit lists (红名单 / 黑名单) as the grading engine and the measures see them: the subjects
whose list entry is in force on a day (`supervision.credit.lists` keeps the entries)."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

LIST_NAMES = ("redlist", "blacklist")


def in_force(on: date):
    """The condition on `ListEntry` rows in force on `on`: entered on or before it, not yet
    expired nor exited."""
    from supervision.credit.lifecycle_models import ListEntry

    return (ListEntry.entered_on.is_not(None), ListEntry.entered_on <= on, ListEntry.status.in_(("entered", "exited")),
            or_(ListEntry.expires_on.is_(None), ListEntry.expires_on > on),
            or_(ListEntry.exited_on.is_(None), ListEntry.exited_on > on))


def members(session: Session, list_name: str, on: date) -> Iterable[int]:
    """Subject ids on the named list on the given day."""
    from supervision.credit.lifecycle_models import ListEntry

    return session.execute(select(ListEntry.subject_id).distinct()
                           .where(ListEntry.list_name == list_name, *in_force(on))).scalars().all()
