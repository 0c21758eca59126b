"""Calendar arithmetic the credit rules are written in: whole months, China's date."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timezone

from supervision.timeutil import CHINA


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the target month lacks becomes its last day
    (31 January + 1 month = 28 or 29 February), as a "one month" deadline is read."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def china_today() -> date:
    """Today in China: the institutes' dates (arose on, decided on) are local dates."""
    return datetime.now(timezone.utc).astimezone(CHINA).date()


def china_date(utc_naive: datetime) -> date:
    """The China date of a stored instant (naive UTC)."""
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(CHINA).date()
