"""Pushes to other systems: signed webhooks for credit events, delivered from the job queue.

The services that change credit `events.emit` an outbox row in their own transaction. After the
commit, the dispatcher turns each undelivered outbox event into one delivery per subscription
that asked for its type and enqueues each delivery (`supervision.jobs.enqueue`, retried with
exponential backoff). A delivery is an HTTP POST of the event as JSON with

    X-Event-Id:   the event's id (the same on every attempt and re-send: receivers dedupe on it)
    X-Timestamp:  seconds since the epoch
    X-Signature:  sha256=<hex HMAC-SHA256 with the subscription's secret over "<timestamp>.<body>">

A dead receiver never holds up a change: the change has committed before any delivery starts.
Deliveries that exhaust their retries end `failed` and can be re-sent. The dispatcher also runs
as a job and as `supervision deliveries dispatch` (cron), so a crash between a commit and the
enqueue loses nothing: the event has no dispatch row yet and the next dispatch picks it up.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from supervision import audit, jobs
from supervision.credit.events import EVENT_TYPES, CreditEvent
from supervision.errors import Conflict, NotFound, ValidationFailed
from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow

DEFAULT_RETRY_INTERVALS = [30, 120, 600, 3600, 6 * 3600]  # exponential-ish backoff, seconds
STATUSES = ("pending", "delivered", "failed")
DISPATCH_BATCH = 500


class Subscription(Snapshot, db.Model):
    __tablename__ = "push_subscriptions"
    audit_exclude = ("secret",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON)
    # The shared HMAC secret: the receiver needs the same bytes, so it is kept, never shown again.
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Dispatch(db.Model):
    """An outbox event already turned into its deliveries."""

    __tablename__ = "credit_event_dispatches"

    event_id: Mapped[int] = mapped_column(ForeignKey("credit_events.id"), primary_key=True)
    dispatched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Delivery(Snapshot, db.Model):
    __tablename__ = "push_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id", name="uq_push_deliveries_event_subscription"),
                      Index("ix_push_deliveries_status", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("credit_events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("push_subscriptions.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_attempt_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(DateTime)


# --- subscriptions ------------------------------------------------------------------------------

def add_subscription(session: Session, actor: audit.Actor, name: str, url: str, events: list[str]) -> tuple[Subscription, str]:
    """A new subscription: (its row, its secret — printed once)."""
    problems: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        problems["name"] = ["名称须为 1 至 100 个字符"]
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        problems["url"] = ["须为 http 或 https 地址，不超过 500 个字符"]
    unknown = [e for e in events if e not in EVENT_TYPES]
    if not events or unknown:
        problems["events"] = [f"可选事件：{', '.join(EVENT_TYPES)}" + (f"；未知：{', '.join(unknown)}" if unknown else "")]
    if problems:
        raise ValidationFailed("订阅信息有误", fields=problems)
    if session.execute(select(Subscription.id).where(Subscription.name == name)).first():
        raise Conflict(f"订阅“{name}”已存在", fields={"name": ["已存在"]})
    secret = secrets.token_hex(32)
    row = Subscription(name=name, url=url, events=sorted(set(events)), secret=secret, active=True)
    session.add(row)
    session.flush()
    audit.record(session, actor, "push_subscription_add", row)
    return row, secret


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def body_of(event_row: CreditEvent) -> bytes:
    return json.dumps({"id": event_row.id, "type": event_row.event_type, "created_at": event_row.created_at.isoformat() + "Z",
                       "data": event_row.payload}, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# --- dispatch -----------------------------------------------------------------------------------

def dispatch(session: Session, *, limit: int = DISPATCH_BATCH) -> list[int]:
    """Turn undispatched outbox events into deliveries (one per matching active subscription);
    the ids of the new deliveries. Idempotent: an event is dispatched once."""
    subscriptions = list(session.execute(select(Subscription).where(Subscription.active.is_(True))).scalars())
    pending = session.execute(select(CreditEvent).outerjoin(Dispatch, Dispatch.event_id == CreditEvent.id)
                              .where(Dispatch.event_id.is_(None)).order_by(CreditEvent.id).limit(limit)).scalars().all()
    created: list[int] = []
    for event_row in pending:
        try:
            with session.begin_nested():  # another dispatcher got there first: skip the event
                session.add(Dispatch(event_id=event_row.id))
                rows = [Delivery(event_id=event_row.id, subscription_id=s.id, status="pending", attempts=0)
                        for s in subscriptions if event_row.event_type in s.events]
                session.add_all(rows)
                session.flush()
        except IntegrityError:
            continue
        created.extend(r.id for r in rows)
    return created


def _retry_intervals() -> list[int]:
    return list(current_app.config.get("WEBHOOK_RETRY_INTERVALS") or DEFAULT_RETRY_INTERVALS)


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """Queue each delivery; without a queue, make one attempt each now (a failure stays
    `pending` for the next dispatch)."""
    for delivery_id in delivery_ids:
        try:
            jobs.enqueue(deliver, delivery_id, retry_intervals=_retry_intervals())
        except DeliveryFailed:
            pass


def dispatch_job() -> dict:
    """Job and cron: dispatch in batches, commit each, then enqueue its deliveries."""
    from supervision.transaction import unit_of_work

    total = 0
    if jobs.queue() is None:  # no queue, so no retries queued: this run is the retry
        retry = list(db.session.execute(select(Delivery.id).where(Delivery.status == "pending")
                                        .order_by(Delivery.id)).scalars())
        db.session.rollback()
        enqueue_deliveries(retry)
        total += len(retry)
    while True:
        with unit_of_work(db.session):
            created = dispatch(db.session)
            more = bool(created) or db.session.execute(
                select(CreditEvent.id).outerjoin(Dispatch, Dispatch.event_id == CreditEvent.id)
                .where(Dispatch.event_id.is_(None)).limit(1)).first() is not None
        enqueue_deliveries(created)
        total += len(created)
        if not more:
            return {"deliveries": total}


# --- delivery -----------------------------------------------------------------------------------

class DeliveryFailed(Exception):
    """Raised to the queue so that RQ retries the job after its next interval."""


def _post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https checked on add)
        return response.status


def deliver(delivery_id: int) -> str:
    """One attempt at one delivery (the job). Delivered already: nothing to do. A failure that
    has attempts left raises, so the queue retries after the next interval; the last one ends
    the delivery `failed`."""
    from supervision.transaction import unit_of_work

    with unit_of_work(db.session):
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery is not None else "missing"
        subscription = db.session.get(Subscription, delivery.subscription_id)
        body = body_of(db.session.get(CreditEvent, delivery.event_id))
        url, secret, event_id = subscription.url, subscription.secret, delivery.event_id
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Event-Id": str(event_id),
               "X-Timestamp": timestamp, "X-Signature": signature(secret, timestamp, body),
               "User-Agent": "health-supervision-webhooks/1"}
    error = None
    try:
        status = _post(url, body, headers, float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10)))
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    with unit_of_work(db.session):
        delivery = db.session.get(Delivery, delivery_id, with_for_update=True)
        delivery.attempts += 1
        delivery.last_attempt_at = utcnow()
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
        else:
            delivery.last_error = error
            if delivery.attempts > len(_retry_intervals()):
                delivery.status = "failed"
        result = delivery.status
    if result == "pending":
        raise DeliveryFailed(f"delivery {delivery_id}: {error}")
    return result


def resend(session: Session, actor: audit.Actor, delivery_id: int) -> Delivery:
    """Put a failed (or delivered) delivery back to pending with a fresh count of attempts; the
    caller enqueues it after its commit."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"推送 {delivery_id} 不存在", fields={"delivery_id": ["不存在"]})
    if delivery.status == "pending":
        raise Conflict(f"推送 {delivery_id} 正在投递中", fields={"delivery_id": ["投递中"]})
    before = delivery.audit_snapshot()
    delivery.status, delivery.attempts, delivery.last_error = "pending", 0, None
    audit.record(session, actor, "push_delivery_resend", delivery, before=before)
    return delivery


def deliveries(session: Session, status: str | None = None, limit: int = 200) -> list[tuple[Delivery, Subscription, CreditEvent]]:
    query = (select(Delivery, Subscription, CreditEvent).join(Subscription, Subscription.id == Delivery.subscription_id)
             .join(CreditEvent, CreditEvent.id == Delivery.event_id))
    if status:
        query = query.where(Delivery.status == status)
    return [tuple(row) for row in session.execute(query.order_by(Delivery.id.desc()).limit(limit)).all()]


# --- after commit: dispatch on the queue --------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _note_new_events(session, flush_context):
    if any(isinstance(obj, CreditEvent) for obj in session.new):
        session.info["credit_events_pending"] = True


@event.listens_for(Session, "after_soft_rollback")
def _forget_events(session, previous_transaction):
    if not session.in_transaction():
        session.info.pop("credit_events_pending", None)


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    """Events committed: hand the dispatcher to the queue. Without a queue nothing happens here:
    the dispatcher's cron (`supervision deliveries dispatch`) picks the events up, and the
    commit that emitted them never waits for a receiver."""
    if not session.info.pop("credit_events_pending", False):
        return
    try:
        rq_queue = jobs.queue()
    except RuntimeError:  # no app context (scripts outside the app)
        return
    if rq_queue is not None:
        jobs.enqueue(dispatch_job)


# --- command line -------------------------------------------------------------------------------

@click.group("subscriptions")
def subscriptions_group():
    """Systems that receive signed webhooks of credit events."""


@subscriptions_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--events", "events", required=True, help=f"comma-separated: {','.join(EVENT_TYPES)}")
@with_appcontext
def subscriptions_add(name, url, events):
    """Subscribe URL to the given events; prints the signing secret once."""
    from supervision.cli import cli_actor, run_service

    row, secret = run_service(lambda: add_subscription(db.session, cli_actor(), name, url,
                                                       [e.strip() for e in events.split(",") if e.strip()]))
    click.echo(f"subscription {row.id} {row.name} → {row.url} ({', '.join(row.events)})")
    click.echo(f"signing secret (shown once): {secret}")


@subscriptions_group.command("list")
@with_appcontext
def subscriptions_list():
    for s in db.session.execute(select(Subscription).order_by(Subscription.id)).scalars():
        click.echo(f"{s.id}\t{s.name}\t{s.url}\t{','.join(s.events)}\t{'active' if s.active else 'inactive'}")


@click.group("deliveries")
def deliveries_group():
    """Webhook deliveries: list, re-send, dispatch the outbox."""


@deliveries_group.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@with_appcontext
def deliveries_list(status):
    rows = deliveries(db.session, status)
    if not rows:
        click.echo("没有推送记录。")
    for d, s, e in rows:
        click.echo(f"{d.id}\t{d.status}\t{e.event_type}#{e.id}\t{s.name}\tattempts={d.attempts}"
                   + (f"\t{d.last_error}" if d.last_error else ""))


@deliveries_group.command("resend")
@click.argument("delivery_id", type=int)
@with_appcontext
def deliveries_resend(delivery_id):
    from supervision.cli import cli_actor, run_service

    run_service(lambda: resend(db.session, cli_actor(), delivery_id))
    queued = jobs.queue() is not None
    enqueue_deliveries([delivery_id])
    click.echo(f"delivery {delivery_id} " + ("queued" if queued else
                                              f"sent inline: {db.session.get(Delivery, delivery_id).status}"))


@deliveries_group.command("dispatch")
@with_appcontext
def deliveries_dispatch():
    """Turn undispatched outbox events into deliveries and send them (cron, e.g. every minute)."""
    result = dispatch_job()
    click.echo(f"deliveries sent or queued: {result['deliveries']}")
