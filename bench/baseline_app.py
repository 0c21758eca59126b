"""The baseline for bench/terminal_sync.py: a bare Flask endpoint that only parses JSON.

It accepts the same inspection submission body the real service gets, parses it with
`request.get_json()` and answers with a small JSON object, so the only work left is what every
request pays anyway (HTTP parsing under gunicorn, Flask routing, JSON in and out). Serving it
with the same gunicorn worker count and class as the real service, in the same run, turns the
real figure into a ratio that does not depend on how fast this particular machine is today.

Run: gunicorn "bench.baseline_app:create_app()"   (or "bench.baseline_app:app")
"""
from __future__ import annotations

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask("bench_baseline")

    @app.post("/api/v1/inspections")
    def parse_only():
        body = request.get_json()
        return jsonify({"uuid": body.get("uuid"), "status": "parsed"}), 201

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


app = create_app()
