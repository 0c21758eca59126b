"""Field types for everything a client sends: values the database and the domain can hold.

Hostile or broken clients send integers past 64 bits, lone UTF-16 surrogates, NUL bytes and
dates in year 1 with a 23-hour offset. marshmallow's plain fields accept all of them, and the
database then fails with a 500. Every request schema uses these types instead, so the refusal
is a 422 naming the field (tests/test_hostile_input.py checks that no request schema uses a
plain String, Integer or DateTime).
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import fields, validate

from supervision.text import CONTROL_MULTILINE, CONTROL_SINGLE_LINE, SURROGATE

# PostgreSQL BIGINT and SQLite INTEGER are signed 64-bit.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Row ids and the audit sequence (sync cursors) are INTEGER columns: 32-bit on PostgreSQL.
ROW_ID_MAX = 2**31 - 1
# A sane window for anything that happened in the field; real offsets lie within ±14 h.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_UTC_OFFSET = timedelta(hours=14)



class BoundedInteger(fields.Integer):
    """An integer within the database's signed 64-bit range, or tighter bounds the domain
    gives. The bounds are a Range validator, so the OpenAPI document states them too."""

    def __init__(self, *, min: int = INT64_MIN, max: int = INT64_MAX, strict: bool = True, **kwargs):
        if not (INT64_MIN <= min <= max <= INT64_MAX):
            raise ValueError("bounds must lie within the signed 64-bit range")
        validators = kwargs.pop("validate", None)
        validators = [validators] if callable(validators) else list(validators or [])
        super().__init__(strict=strict, validate=[validate.Range(min=min, max=max), *validators], **kwargs)


def Id(**kwargs) -> BoundedInteger:  # noqa: N802 - reads as a field type
    """A row id: positive, within the INTEGER column it names."""
    return BoundedInteger(min=1, max=ROW_ID_MAX, **kwargs)


def Position(**kwargs) -> BoundedInteger:  # noqa: N802
    """A place in an id or sequence space to continue after (after_id, cursor): 0 for the start."""
    return BoundedInteger(min=0, max=ROW_ID_MAX, strict=False, **kwargs)


class Text(fields.String):
    """A string that can be stored and shown (supervision.text): no lone surrogates, no NUL,
    no control characters (tab and line breaks only where `multiline`)."""

    default_error_messages = {
        "surrogate": "包含无效的 Unicode 字符（孤立的代理项）",
        "control": "不能包含控制字符",
    }

    def __init__(self, *, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if SURROGATE.search(text):
            raise self.make_error("surrogate")
        if (CONTROL_MULTILINE if self.multiline else CONTROL_SINGLE_LINE).search(text):
            raise self.make_error("control")
        return text


class FieldDateTime(fields.AwareDateTime):
    """A moment in the field: with an explicit UTC offset within ±14 h, in 2000–2100."""

    default_error_messages = {
        "out_of_range": f"日期应在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间",
        "offset": "时区偏移应在 -14:00 到 +14:00 之间",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if abs(moment.utcoffset()) > MAX_UTC_OFFSET:
            raise self.make_error("offset")
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise self.make_error("out_of_range")
        return moment


class BoundedDate(fields.Date):
    """A calendar day in 2000–2100: year 1 and year 9999 are typos or attacks, never records."""

    default_error_messages = {"out_of_range": f"日期应在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间"}

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise self.make_error("out_of_range")
        return day
