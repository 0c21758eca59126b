"""The baseline for bench/plate_page.py: a bare Flask endpoint on the same path returning a
constant string, so the ratio leaves out what every request pays anyway (HTTP under gunicorn,
Flask routing).

Run: gunicorn "bench.plate_baseline:app"
"""
from flask import Flask

app = Flask("plate_baseline")


@app.get("/P/<token>")
def constant(token):
    return "ok"


@app.get("/healthz")
def healthz():
    return "ok"
