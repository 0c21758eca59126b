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


# --- working days (工作日): China's official calendar, kept as data ---------------------------

class CalendarGap(Exception):
    """A day in a year the working-day calendar does not cover: never guessed."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(f"工作日历未收录 {year} 年（请用 supervision calendar load 录入国务院办公厅节假日安排）")


class WorkingDays:
    """Working-day arithmetic over the `calendar_days`/`calendar_years` tables, read once."""

    def __init__(self, session):
        from sqlalchemy import select

        from supervision.credit.lifecycle_models import CalendarDay, CalendarYear

        self.years = set(session.execute(select(CalendarYear.year)).scalars())
        self.exceptions = dict(session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all())

    def is_workday(self, day: date) -> bool:
        if day.year not in self.years:
            raise CalendarGap(day.year)
        return self.exceptions.get(day, day.weekday() < 5)

    def add(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself not counted). Raises
        CalendarGap when the count runs into a year the calendar does not cover."""
        from datetime import timedelta

        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day


def load_days(session, actor, text: str, *, source: str, years: list[int] | None = None) -> list[int]:
    """Add whole years to the working-day calendar from CSV lines `YYYY-MM-DD,holiday|workday,name`
    (the days that differ from the weekday rule). A year already covered is refused: the
    calendar is extended, never silently rewritten. Returns the years added."""
    from supervision import audit
    from supervision.credit.lifecycle_models import CalendarDay, CalendarYear
    from supervision.errors import Conflict, ValidationFailed

    source = (source or "").strip()
    if not source or len(source) > 200:
        raise ValidationFailed(fields={"source": ["请写明依据（国务院办公厅通知文号），不超过 200 字"]})
    days: dict[date, tuple[bool, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            raise ValidationFailed(f"第 {number} 行：日期“{parts[0]}”无效", fields={"file": [f"第 {number} 行日期无效"]}) from None
        kind = parts[1] if len(parts) > 1 else ""
        if kind not in ("holiday", "workday"):
            raise ValidationFailed(f"第 {number} 行：类型应为 holiday 或 workday", fields={"file": [f"第 {number} 行类型无效"]})
        is_workday = kind == "workday"
        if is_workday == (day.weekday() < 5):
            raise ValidationFailed(f"第 {number} 行：{day} 本来就是{'工作日' if is_workday else '休息日'}，无需登记",
                                   fields={"file": [f"第 {number} 行与平常相同"]})
        if day in days:
            raise ValidationFailed(f"第 {number} 行：{day} 重复", fields={"file": [f"第 {number} 行重复"]})
        days[day] = (is_workday, (parts[2] if len(parts) > 2 else "")[:64])
    covered = sorted(set(years or []) | {d.year for d in days})
    if not covered:
        raise ValidationFailed(fields={"file": ["没有可录入的日期"]})
    if any(not 2000 <= y <= 2100 for y in covered):
        raise ValidationFailed(fields={"year": ["年份无效"]})
    existing = [y for y in covered if session.get(CalendarYear, y) is not None]
    if existing:
        raise Conflict(f"工作日历已包含 {', '.join(map(str, existing))} 年", code="calendar_year_exists")
    for year in covered:
        row = CalendarYear(year=year, source=source)
        session.add(row)
        audit.record(session, actor, "calendar.add_year", entity_type="calendar_years", entity_id=year,
                     after={"year": year, "source": source,
                            "days": {d.isoformat(): ("workday" if w else "holiday") for d, (w, _) in days.items()
                                     if d.year == year}})
    for day, (is_workday, name) in sorted(days.items()):
        session.add(CalendarDay(day=day, is_workday=is_workday, name=name))
    session.flush()
    return covered
