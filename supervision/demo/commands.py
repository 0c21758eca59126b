"""`supervision demo`: parse the options, run the generator, print what it made."""
import time
from datetime import date, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from supervision.cli import cli_actor, run_service
from supervision.demo import field, generate
from supervision.demo.grading import publish_demo_grades
from supervision.extensions import db


@click.command("demo")
@click.option("--establishments", "-n", type=click.IntRange(min=0), default=1000, show_default=True,
              help="How many establishments to add.")
@click.option("--seed", type=int, default=generate.DEFAULT_SEED, show_default=True,
              help="Random seed; the same seed on the same database gives the same data.")
@click.option("--batch-size", type=click.IntRange(min=100), default=generate.DEFAULT_BATCH_SIZE, show_default=True,
              help="Rows per insert statement batch.")
@click.option("--tasks", type=click.IntRange(min=0), default=50, show_default=True,
              help="Open inspection tasks to create in the grids.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already holds establishments.")
@with_appcontext
def demo_command(establishments: int, seed: int, batch_size: int, tasks: int, if_empty: bool):
    """Fill the database with realistic demo data (Nanjing establishments, licences, plates,
    grids and inspectors), publish the starter checklists, open some tasks and prepare one
    device to enrol. Adds to what is there; the establishments are one audit entry."""
    code_ttl = timedelta(hours=current_app.config["ENROLMENT_CODE_TTL_HOURS"])
    if if_empty and field.has_establishments(db.session):
        click.echo("database already holds establishments: demo data not loaded")
        _print_access(run_service(lambda: field.demo_access(db.session, cli_actor(), today=date.today(),
                                                              code_ttl=code_ttl)))
        return
    started = time.perf_counter()
    summary = generate.load_demo(
        db.session, establishments, actor=cli_actor(), seed=seed, batch_size=batch_size, progress=click.echo
    )
    db.session.commit()
    prepared = field.prepare_field(db.session, cli_actor(), seed=seed, tasks=tasks, today=date.today(),
                                   code_ttl=code_ttl)
    db.session.commit()
    graded = run_service(lambda: publish_demo_grades(db.session, cli_actor(), today=date.today()))
    seconds = time.perf_counter() - started
    click.echo(
        f"created {summary.establishments:,} establishments, {summary.licences:,} licences, "
        f"{summary.plate_tokens:,} plate tokens, {summary.credit_subjects:,} credit subjects; "
        f"{summary.jurisdictions} jurisdictions, {summary.grids} grids, {summary.inspectors} inspectors "
        f"(seed {seed})"
    )
    for category, count in sorted(summary.by_category.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {category:<24} {count:>10,}")
    click.echo(f"credit records: {summary.credit.records:,} ({summary.credit.penalties:,} penalties)")
    if graded is None:
        click.echo(f"credit grades of {date.today().year} were already published: "
                   f"the new establishments are graded when a supervisor re-opens that run (grade reopen)")
    else:
        counts = ", ".join(f"{grade} {n:,}" for grade, n in sorted(graded.counts.items()))
        click.echo(f"credit grades of {date.today().year} published (run {graded.run.id}): {counts}")
    click.echo(f"checklist versions published: {prepared.checklist_versions}; open tasks: {prepared.tasks}")
    _print_access(prepared)
    rate = summary.rows / seconds if seconds else 0.0
    click.echo(f"took {seconds:.1f} s ({summary.rows:,} rows, {rate:,.0f} rows/s)")


def _print_access(prepared: field.DemoField) -> None:
    """Where to start: the code a terminal enrols with, and a plate page to open."""
    if prepared.enrolment_code:
        click.echo(f"demo device {prepared.device_id} for inspector {prepared.badge_no}: "
                   f"POST /api/v1/devices/enrol with code {prepared.enrolment_code}")
    if prepared.sample_plate_token:
        click.echo(f"a plate page: {current_app.config['PUBLIC_BASE_URL']}/P/{prepared.sample_plate_token}")
