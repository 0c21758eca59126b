"""`supervision plates refresh-pages` and `supervision plates prerender`: the stored plate pages
(page_store.py) from the command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from supervision.cli import run_service
from supervision.extensions import db
from supervision.publication import page_store
from supervision.registry.models import PlateToken


@click.command("refresh-pages")
@with_appcontext
def refresh_pages_command():
    """Stop serving every stored plate page (after new policy files, for instance); each is
    rendered again on its next view or by `plates prerender`."""
    run_service(lambda: page_store.invalidate_all(db.session))
    click.echo("stored plate pages will be rendered again")


def current_tokens() -> list[str]:
    return list(db.session.execute(select(PlateToken.token).where(PlateToken.revoked_at.is_(None))
                                   .order_by(PlateToken.id)).scalars())


def prerender_pages(tokens: list[str] | None = None, limit: int | None = None, *, progress=None) -> dict:
    """Render and store the pages of these plates (None: every current plate), each through the
    same view as a visitor's request, so it is stored exactly as it would be then. What a queue
    worker runs too (`supervision.jobs.enqueue(prerender_pages)`)."""
    if tokens is None:
        tokens = current_tokens()
    db.session.rollback()
    tokens = tokens[:limit] if limit is not None else tokens
    client = current_app.test_client()
    stored = failed = 0
    for token in tokens:
        response = client.get(f"/P/{token}", headers={"Accept-Encoding": "identity"})
        if response.status_code == 200:
            stored += 1
        else:
            failed += 1
        response.close()
        if progress is not None:
            progress(1)
    return {"stored": stored, "not_found": failed}


@click.command("prerender")
@click.option("--tokens", "tokens_file", type=click.Path(exists=True, dir_okay=False),
              help="a file of plate tokens, one per line (default: every current plate)")
@click.option("--limit", type=int, default=None, help="at most this many plates")
@click.option("--queue", "queued", is_flag=True, help="run it on the job queue (RQ) instead of here")
@with_appcontext
def prerender_command(tokens_file, limit, queued):
    """Render and store the pages of current plates, so that their first visitor is served from
    the store too (after a grading run is published, say)."""
    from supervision import jobs

    tokens = None
    if tokens_file:
        tokens = [line.strip() for line in Path(tokens_file).read_text().splitlines() if line.strip()]
    if queued:
        submitted = jobs.enqueue(prerender_pages, tokens, limit, job_timeout=24 * 3600)
        if submitted.queued:
            click.echo(f"plate pages queued as job {submitted.job_id}")
            return
        result = submitted.result
    else:
        tokens = current_tokens() if tokens is None else tokens
        with click.progressbar(length=len(tokens[:limit] if limit is not None else tokens), label="plate pages",
                               file=sys.stderr) as bar:
            result = prerender_pages(tokens, limit, progress=bar.update)
    click.echo(f"{result['stored']} plate pages rendered and stored"
               + (f", {result['not_found']} not found" if result["not_found"] else ""))
