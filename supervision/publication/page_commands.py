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


@click.command("prerender")
@click.option("--tokens", "tokens_file", type=click.Path(exists=True, dir_okay=False),
              help="a file of plate tokens, one per line (default: every current plate)")
@click.option("--limit", type=int, default=None, help="at most this many plates")
@with_appcontext
def prerender_command(tokens_file, limit):
    """Render and store the pages of current plates, so that their first visitor is served from
    the store too (after a grading run is published, say). Each page goes through the same view
    as a visitor's request, so it is stored exactly as it would be then."""
    if tokens_file:
        tokens = [line.strip() for line in Path(tokens_file).read_text().splitlines() if line.strip()]
    else:
        tokens = list(db.session.execute(select(PlateToken.token).where(PlateToken.revoked_at.is_(None))
                                         .order_by(PlateToken.id)).scalars())
    db.session.rollback()
    tokens = tokens[:limit] if limit is not None else tokens
    client = current_app.test_client()
    failed = 0
    with click.progressbar(tokens, label="plate pages", file=sys.stderr) as bar:
        for token in bar:
            response = client.get(f"/P/{token}", headers={"Accept-Encoding": "identity"})
            failed += response.status_code != 200
            response.close()
    click.echo(f"{len(tokens) - failed} plate pages rendered and stored" + (f", {failed} not found" if failed else ""))
