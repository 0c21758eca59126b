"""Search of establishments by name or credit code, paged."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from supervision.registry.models import Establishment, PlateToken

PAGE_SIZE = 20
MAX_PAGE = 50
MAX_QUERY = 60


@dataclass
class SearchPage:
    query: str
    page: int
    results: list[tuple[Establishment, str | None]]  # establishment, its current plate token
    has_next: bool


def search(session: Session, query: str, page: int = 1) -> SearchPage:
    q = " ".join((query or "").split())[:MAX_QUERY]
    page = min(max(page, 1), MAX_PAGE)
    if len(q) < 2:
        return SearchPage(q, page, [], False)
    code = q.upper()
    token = (select(PlateToken.token).where(PlateToken.establishment_id == Establishment.id,
                                             PlateToken.revoked_at.is_(None)).limit(1).scalar_subquery())
    rows = session.execute(
        select(Establishment, token).options(joinedload(Establishment.category))
        .where(or_(Establishment.credit_code == code, Establishment.name.contains(q, autoescape=True)))
        .order_by(Establishment.name, Establishment.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    results = [(e, t) for e, t in rows[:PAGE_SIZE]]
    return SearchPage(q, page, results, len(rows) > PAGE_SIZE)
