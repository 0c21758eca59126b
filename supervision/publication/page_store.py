"""Stored plate pages: each establishment's public page (`/P/<token>`), rendered once and kept
gzip-compressed until something it shows changes, so that a citizen's scan costs one indexed
statement and no rendering (`public_site/plate_fast_path.py` serves them ahead of Flask).

Never stale, by construction rather than by timeout:
- Every write that feeds a page is an audited write, and the audit chain calls `_invalidate`
  inside that write's transaction (`audit.on_append`): the page of each establishment it touches
  loses its body and its `generation` moves on, atomically with the change. Bulk changes (a
  grading run published, demo data) move the global `epoch` instead; only pages of the current
  epoch are served.
- A page is stored by the request that rendered it only if the generation it read *before*
  reading anything else is still the row's generation (`store`): a render that raced a write
  (read old data, write commits, render stores) finds the generation moved and stores nothing.
  A row is created by the first writer or renderer, whichever comes first; both create it with
  conflict handling, so neither can overwrite the other's newer state.
- A page is served only on the China date it was rendered: what depends on the day (a penalty's
  publicity window ending) is rendered again the next day on first view.
Policy files (publicity windows) change with a deployment: `supervision plates refresh-pages`
moves the epoch.
"""
from __future__ import annotations

import gzip
from datetime import date
from typing import Optional

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, event, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from supervision import audit
from supervision.extensions import db


class StoredPlatePage(db.Model):
    __tablename__ = "plate_pages"

    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), primary_key=True,
                                                  autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    rendered_on: Mapped[Optional[date]] = mapped_column(Date)  # China date
    etag: Mapped[Optional[str]] = mapped_column(String(64))
    body: Mapped[Optional[bytes]] = mapped_column(LargeBinary)  # gzip of the HTML; None: to be rendered


class PlatePageEpoch(db.Model):
    """One row (id 1): moved by changes that touch every page at once."""

    __tablename__ = "plate_page_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(Integer, default=0)


_ROWS_PER_STATEMENT = 1000  # three parameters a row: far below SQLite's and PostgreSQL's limits


def _insert(session: Session):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(StoredPlatePage)


def invalidate(session: Session, establishment_ids) -> None:
    """Drop the stored pages of these establishments and move their generation, in the caller's
    transaction (rows are created when missing, so a render in flight cannot store)."""
    ids = sorted({int(i) for i in establishment_ids})
    for start in range(0, len(ids), _ROWS_PER_STATEMENT):  # in order: writers lock rows alike
        statement = _insert(session).values([{"establishment_id": i, "generation": 1, "epoch": 0}
                                             for i in ids[start:start + _ROWS_PER_STATEMENT]])
        session.execute(statement.on_conflict_do_update(
            index_elements=[StoredPlatePage.establishment_id],
            set_={"generation": StoredPlatePage.generation + 1, "body": None}))


def invalidate_all(session: Session) -> None:
    """Every stored page stops being served (a bulk change): the epoch moves."""
    session.execute(update(PlatePageEpoch).where(PlatePageEpoch.id == 1).values(epoch=PlatePageEpoch.epoch + 1))


def store(session: Session, establishment_id: int, *, generation: int | None, epoch: int, rendered_on: date,
          etag: str, html: bytes) -> bool:
    """Keep a rendered page, unless its establishment changed since `generation` was read (None:
    there was no row then). Returns whether it was stored."""
    body = gzip.compress(html, compresslevel=6, mtime=0)
    values = {"epoch": epoch, "rendered_on": rendered_on, "etag": etag, "body": body}
    if generation is None:
        statement = _insert(session).values(establishment_id=establishment_id, generation=0, **values)
        result = session.execute(statement.on_conflict_do_nothing(index_elements=[StoredPlatePage.establishment_id]))
    else:
        result = session.execute(update(StoredPlatePage).where(
            StoredPlatePage.establishment_id == establishment_id, StoredPlatePage.generation == generation)
            .values(**values))
    return result.rowcount == 1


# What the fast path runs: a current token's page, stored today, of the current epoch.
LOOKUP = text(
    "SELECT p.etag, p.body FROM plate_tokens t JOIN plate_pages p ON p.establishment_id = t.establishment_id "
    "WHERE t.token = :token AND t.revoked_at IS NULL AND p.body IS NOT NULL AND p.rendered_on = :today "
    "AND p.epoch = (SELECT e.epoch FROM plate_page_epoch e WHERE e.id = 1)")


def lookup(session: Session, token: str, today: date) -> tuple[str, bytes] | None:
    row = session.execute(LOOKUP, {"token": token, "today": today}).first()
    return None if row is None else (row[0], bytes(row[1]))


# --- what changes which page ------------------------------------------------------------------

# Entity types (audit chain) whose change touches every page at once: a publication of grades
# (a page shows only published grades, so drafts, approvals and their supersession do not count)
# and demo data.
BULK_TYPES = {"grade_publications", "demo"}


# Entity types whose rows name their establishment (`establishment_id`), and those that name
# their credit subject (`subject_id`); others do not feed a page.
BY_ESTABLISHMENT = {"inspections", "penalties", "rectification_orders", "commitment_letters", "plate_tokens"}
BY_SUBJECT = {"credit_records", "credit_list_entries"}


def _models():
    from supervision.commitments.models import CommitmentLetter
    from supervision.credit.lifecycle_models import ListEntry
    from supervision.credit.models import CreditRecord, Penalty
    from supervision.inspections.models import Inspection, RectificationOrder
    from supervision.registry.models import PlateToken

    return {"inspections": (Inspection, Inspection.uuid), "penalties": (Penalty, Penalty.id),
            "rectification_orders": (RectificationOrder, RectificationOrder.id),
            "commitment_letters": (CommitmentLetter, CommitmentLetter.id), "plate_tokens": (PlateToken, PlateToken.id),
            "credit_records": (CreditRecord, CreditRecord.id), "credit_list_entries": (ListEntry, ListEntry.id)}


_TOUCHED = "plate_pages_touched"


def _touched(session: Session) -> dict:
    return session.info.setdefault(_TOUCHED, {"establishments": set(), "subjects": set(), "unknown": {},
                                              "bulk": False})


def _note(session: Session, entity_type: str, entity_id, entity) -> None:
    touched = _touched(session)
    if entity_type == "establishments":
        if entity_id not in (None, "None"):
            touched["establishments"].add(int(entity_id))
    elif entity_type in BY_ESTABLISHMENT or entity_type in BY_SUBJECT:
        # The instance usually says whose it is (read without loading anything); otherwise it is
        # looked up at commit.
        own = _loaded(entity, "establishment_id" if entity_type in BY_ESTABLISHMENT else "subject_id")
        if own is None:
            touched["unknown"].setdefault(entity_type, set()).add(str(entity_id))
        else:
            touched["establishments" if entity_type in BY_ESTABLISHMENT else "subjects"].add(own)


def _loaded(instance, name: str):
    """An attribute of a model instance as the session holds it, or None: never a query."""
    if instance is None:
        return None
    try:
        return sa_inspect(instance).dict.get(name)
    except NoInspectionAvailable:
        return None


def _from_audit(session: Session, changed: list[tuple]) -> None:
    """The audit chain's hook: every audited change, by type and id (bulk ones included)."""
    for entity_type, entity_id, entity in changed:
        if entity_type in BULK_TYPES:
            _touched(session)["bulk"] = True
        else:
            _note(session, entity_type, entity_id, entity)


@event.listens_for(Session, "after_flush")
def _from_flush(session: Session, _context) -> None:
    """Every ORM change of a row a page shows, audited or not."""
    for instance in (*session.new, *session.dirty, *session.deleted):
        entity_type = getattr(instance, "__tablename__", None)
        if entity_type == "establishments" or entity_type in BY_ESTABLISHMENT or entity_type in BY_SUBJECT:
            _note(session, entity_type, _loaded(instance, "id"), instance)


@event.listens_for(Session, "before_commit")
def _invalidate_touched(session: Session) -> None:
    """At commit (after the audit chain's own before_commit, which took its lock first), in the
    committing transaction: the pages of every establishment it touched."""
    if session.get_nested_transaction() is not None:
        return
    session.flush()  # what is still pending is noted by _from_flush, for this transaction
    touched = session.info.pop(_TOUCHED, None)
    if touched is None:
        return
    from supervision.registry.models import Establishment

    if touched["bulk"]:
        invalidate_all(session)
    establishments, subjects = touched["establishments"], touched["subjects"]
    if touched["unknown"]:
        models = _models()
        for entity_type, ids in touched["unknown"].items():
            model, key = models[entity_type]
            ids = list(ids) if entity_type == "inspections" else [int(i) for i in ids if i.isdigit()]
            column = model.establishment_id if entity_type in BY_ESTABLISHMENT else model.subject_id
            found = set(session.execute(select(column).where(key.in_(ids))).scalars())
            (establishments if entity_type in BY_ESTABLISHMENT else subjects).update(found)
    if subjects:
        # Establishments the transaction already holds answer for their subjects without a query.
        for instance in list(session.identity_map.values()):
            if isinstance(instance, Establishment) and _loaded(instance, "subject_id") in subjects:
                establishments.add(instance.id)
                subjects.discard(_loaded(instance, "subject_id"))
    if subjects:
        establishments |= set(session.execute(select(Establishment.id).where(Establishment.subject_id.in_(subjects)))
                              .scalars())
    invalidate(session, establishments)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_TOUCHED, None)


audit.on_append(_from_audit)
