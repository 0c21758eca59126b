"""The demo's published grades: so that plates, public pages and draws show a grade at once.

The demo's credit information covers the year before the day it is loaded, so the demo grades
the current year and publishes it, signed off as "演示数据". A real installation grades the
previous year on 20 January (docs/grading.md)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit.grading import runs
from supervision.credit.grading.models import GradingRun

DEMO_SIGN_OFF = "演示数据"


def publish_demo_grades(session: Session, actor: audit.Actor, *, today: date,
                        progress=None) -> runs.RunResult | None:
    """Grade and publish the demo year; None when that year is already signed off (a second
    demo load adds establishments: re-opening the run is a supervisor's decision)."""
    signed_off = session.execute(select(GradingRun.id).where(
        GradingRun.year == today.year, GradingRun.jurisdiction_id.is_(None),
        GradingRun.status.in_(("approved", "published")))).first()
    if signed_off is not None:
        return None
    kwargs = {"progress": progress} if progress else {}
    result = runs.run_grading(session, actor, year=today.year, by=DEMO_SIGN_OFF, **kwargs)
    runs.approve(session, actor, result.run.id, by=DEMO_SIGN_OFF)
    runs.publish(session, actor, result.run.id, by=DEMO_SIGN_OFF)
    return result
