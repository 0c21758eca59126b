"""Signed webhooks of credit events: subscriptions, dispatch from the outbox, delivery on the
real Redis queue with retries, failure and re-send."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import Queue, SimpleWorker

from supervision import jobs
from supervision.credit import events
from supervision.credit.grading import approve, publish, run_grading
from supervision.credit.pushes import Delivery, dispatch_job
from supervision.extensions import db
from tests import factories

REDIS_URL = "redis://127.0.0.1:6379/0"


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that answers 500 to the first `failures` requests."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = len(receiver.requests) >= receiver.failures
                receiver.requests.append({"headers": dict(self.headers), "body": body, "ok": ok})
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/credit"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def verify(request: dict, secret: str) -> bool:
    headers = request["headers"]
    expected = "sha256=" + hmac.new(secret.encode(), headers["X-Timestamp"].encode() + b"." + request["body"],
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Signature"], expected)


def subscribe(app, url: str, events_: str = "grading.published,list.entered") -> str:
    result = app.test_cli_runner().invoke(args=["subscriptions", "add", "省信用平台", url, "--events", events_])
    assert result.exit_code == 0, result.output
    return result.output.split("shown once): ")[1].split()[0]


def publish_a_run():
    factories.jurisdiction()
    factories.establishment()
    run = run_grading(db.session, factories.ACTOR, year=2025, now=datetime(2026, 1, 20)).run
    approve(db.session, factories.ACTOR, run.id, by="张主任")
    publish(db.session, factories.ACTOR, run.id, by="李所长")
    db.session.commit()
    return run


@pytest.fixture
def queued_app(fresh_app):
    fresh_app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=f"test-{uuid.uuid4().hex[:10]}",
                            WEBHOOK_RETRY_INTERVALS=[0, 0, 0], WEBHOOK_TIMEOUT_SECONDS=5)
    connection = jobs.redis_connection(fresh_app)
    if connection is None:
        pytest.fail("Redis at 127.0.0.1:6379 does not answer: .ci/run starts it (redis-server --daemonize yes)")
    yield fresh_app
    Queue(fresh_app.config["JOB_QUEUE"], connection=connection).empty()


def work(app, rounds: int = 6):
    connection = jobs.redis_connection(app)
    for _ in range(rounds):
        SimpleWorker([Queue(app.config["JOB_QUEUE"], connection=connection)], connection=connection).work(burst=True)
    db.session.rollback()  # see the worker's commits


def test_a_receiver_failing_twice_gets_the_publication_exactly_once_signed(queued_app):
    with Receiver(failures=2) as receiver:
        secret = subscribe(queued_app, receiver.url)
        run = publish_a_run()  # the commit hands the dispatcher to the queue
        assert receiver.requests == []  # nothing is sent inside the publication
        work(queued_app)
        delivery = db.session.query(Delivery).one()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 3, None)
        assert [r["ok"] for r in receiver.requests] == [False, False, True]
        assert all(verify(r, secret) for r in receiver.requests)
        assert {r["headers"]["X-Event-Id"] for r in receiver.requests} == {str(delivery.event_id)}
        body = json.loads(receiver.requests[-1]["body"])
        assert body["type"] == "grading.published" and body["data"]["run_id"] == run.id
        assert not verify({**receiver.requests[-1], "body": receiver.requests[-1]["body"] + b" "}, secret)
        # Dispatching again, and more workers, send nothing more.
        jobs.enqueue(dispatch_job)
        work(queued_app)
        assert sum(r["ok"] for r in receiver.requests) == 1 and len(receiver.requests) == 3


def test_a_dead_receiver_never_blocks_the_publication_and_the_delivery_can_be_resent(queued_app):
    with Receiver(failures=1000) as receiver:
        subscribe(queued_app, receiver.url)
        run = publish_a_run()
        work(queued_app)
        db.session.refresh(run)
        assert run.status == "published"
        delivery = db.session.query(Delivery).one()
        assert (delivery.status, delivery.attempts) == ("failed", 4) and delivery.last_error == "HTTP 500"
        listed = queued_app.test_cli_runner().invoke(args=["deliveries", "list", "--status", "failed"])
        assert listed.exit_code == 0 and f"{delivery.id}\tfailed\tgrading.published" in listed.output
        receiver.failures = 0
        resent = queued_app.test_cli_runner().invoke(args=["deliveries", "resend", str(delivery.id)])
        assert resent.exit_code == 0 and "queued" in resent.output, resent.output
        work(queued_app)
        db.session.refresh(delivery)
        assert delivery.status == "delivered" and receiver.requests[-1]["ok"]
        assert len({r["headers"]["X-Event-Id"] for r in receiver.requests}) == 1


def test_events_committed_without_a_queue_are_picked_up_by_the_dispatcher(app, runner):
    with Receiver() as receiver:
        secret = subscribe(app, receiver.url, "list.entered")
        events.emit(db.session, "list.entered", {"list": "red_list", "credit_code": "X"})
        events.emit(db.session, "grading.published", {"run_id": 1})  # nobody asked for this one
        db.session.commit()  # no Redis: nothing is sent now
        assert receiver.requests == []
        result = runner.invoke(args=["deliveries", "dispatch"])
        assert result.exit_code == 0, result.output
        assert len(receiver.requests) == 1 and verify(receiver.requests[0], secret)
        assert json.loads(receiver.requests[0]["body"])["type"] == "list.entered"
        assert runner.invoke(args=["deliveries", "dispatch"]).exit_code == 0
        assert len(receiver.requests) == 1  # each event is dispatched once


def test_a_subscription_with_a_bad_url_or_event_is_refused(runner):
    result = runner.invoke(args=["subscriptions", "add", "x", "ftp://example.cn/", "--events", "grading.published,nope"])
    assert result.exit_code == 1 and "url" in result.output and "events" in result.output
