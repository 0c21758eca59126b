"""Credit lists (红名单 / 黑名单) as the grading engine sees them.

The lists themselves come with a later issue. Until then the provider knows no list members,
so the policy's list rules (e.g. "blacklisted → E") are in place and tested with a stand-in
provider, but never fire on real data. The lists issue replaces `members` with a query.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy.orm import Session


def members(session: Session, list_name: str, on: date) -> Iterable[int]:
    """Subject ids on the named list on the given day. Empty: no list exists yet."""
    return ()
