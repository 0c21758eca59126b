"""Instants: stored as naive UTC; shown in China time; a device's own offset kept beside them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def to_utc_naive(moment: datetime) -> tuple[datetime, int]:
    """A timezone-aware instant as (naive UTC, the offset it was given in, in minutes)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("naive datetime")
    return moment.astimezone(timezone.utc).replace(tzinfo=None), int(offset.total_seconds() // 60)


def in_china(utc_naive: datetime | None) -> str | None:
    if utc_naive is None:
        return None
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(CHINA).isoformat()


def with_offset(utc_naive: datetime, offset_min: int) -> datetime:
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(timezone(timedelta(minutes=offset_min)))


def offset_text(offset_min: int) -> str:
    sign = "+" if offset_min >= 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
