"""Long jobs on a queue: RQ over Redis, or inline when no Redis answers.

Grading a province, sheets of plates, pushes to other systems and PDF batches are plain
functions in `supervision/` that take their arguments and commit per batch themselves (a job is
an interface, like a CLI command: see docs/architecture.md). The CLI runs them inline with a
progress bar; the API hands them to this module, which puts them on the Redis queue named by
`REDIS_URL` for a `supervision worker` to run, or runs them at once when no Redis is configured
or none answers. The queue is an interface, never the only way to run a job.

A queued job is stored as the dotted path of its function plus its arguments; the worker
imports the function and runs it inside an app context of its own (`run_job`).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app, has_app_context

DEFAULT_QUEUE = "supervision"


@dataclass
class Submitted:
    """What `enqueue` did: queued (with RQ's job id) or ran inline (with the result)."""

    queued: bool
    job_id: str | None = None
    result: Any = None


def redis_connection(app: Flask | None = None):
    """A Redis connection that answered a PING, or None (no REDIS_URL, or nobody answers)."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    try:
        connection.ping()
    except (RedisError, OSError):
        return None
    return connection


def queue(app: Flask | None = None, name: str | None = None):
    """The RQ queue, or None when no Redis answers."""
    app = app or current_app
    connection = redis_connection(app)
    if connection is None:
        return None
    from rq import Queue

    return Queue(name or app.config.get("JOB_QUEUE", DEFAULT_QUEUE), connection=connection)


def function_path(func: Callable) -> str:
    path = f"{func.__module__}.{func.__qualname__}"
    if "<" in path:
        raise ValueError(f"a job must be a module-level function, not {path}")
    return path


def enqueue(func: Callable, *args, retry_intervals: list[int] | None = None, job_timeout: int = 3600,
            **kwargs) -> Submitted:
    """Queue `func(*args, **kwargs)` for a worker, or run it now when no Redis answers.

    `retry_intervals` (seconds) makes RQ retry a failed job that many times with those delays.
    """
    rq_queue = queue()
    if rq_queue is None:
        return Submitted(queued=False, result=func(*args, **kwargs))
    from rq import Retry

    retry = Retry(max=len(retry_intervals), interval=retry_intervals) if retry_intervals else None
    job = rq_queue.enqueue(run_job, function_path(func), args, kwargs, retry=retry, job_timeout=job_timeout)
    return Submitted(queued=True, job_id=job.id)


_worker_app: Flask | None = None


def run_job(path: str, args: tuple, kwargs: dict) -> Any:
    """What a worker runs: import the function and call it inside an app context (the worker's
    own, created once per process, unless one is already pushed)."""
    module_name, _, name = path.rpartition(".")
    func = getattr(importlib.import_module(module_name), name)
    if has_app_context():
        return func(*args, **kwargs)
    global _worker_app
    if _worker_app is None:
        from supervision.app import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return func(*args, **kwargs)
