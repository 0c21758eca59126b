"""`supervision grade …` and the grading side's `supervision credit measures`.

Commands parse, call a service and print; the services decide. Cron starts the yearly run on
20 January (docs/grading.md gives the crontab line).
"""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from supervision.credit.grading.policy import GRADES
from supervision.extensions import db


def _policy_roots():
    return [current_app.config.get("POLICY_DIR")]


def _progress_runner(label: str, enabled: bool):
    """A click progress bar over the steps of a run (the work is a few big SQL statements)."""
    from supervision.credit.grading.runs import STEPS

    bar = click.progressbar(length=len(STEPS), label=label, file=sys.stderr) if enabled else None

    def step(name: str) -> None:
        if bar is not None:
            bar.update(1)
    return bar, step


def _print_result(result, as_json: bool, what: str) -> None:
    run = result.run
    if as_json:
        click.echo(json.dumps({"run_id": run.id, "year": run.year, "status": run.status,
                               "jurisdiction_id": run.jurisdiction_id, "counts": result.counts,
                               "total": sum(result.counts.values()),
                               "replaced_run_id": result.replaced_run_id,
                               "supersedes_run_id": run.supersedes_id}, ensure_ascii=False))
        return
    if result.replaced_run_id:
        click.echo(f"replaced draft run {result.replaced_run_id}")
    click.echo(f"{what} run {run.id}: year {run.year}, {sum(result.counts.values())} graded")
    click.echo("  " + "  ".join(f"{g}: {result.counts.get(g, 0)}" for g in GRADES))


@click.group("grade")
def grade_group():
    """Yearly A–E credit grading: run, approve, publish, reopen, explain, verify, summary."""


@grade_group.command("run")
@click.option("--year", type=int, required=True)
@click.option("--jurisdiction", "jurisdiction", help="division code; default every jurisdiction")
@click.option("--by", "by", help="supervisor's name (default: the OS user)")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option("--queue", "queued", is_flag=True, help="hand the run to a `supervision worker` (RQ) instead")
@with_appcontext
def grade_run(year, jurisdiction, by, as_json, queued):
    """Compute a draft run; a second run of the same scope replaces the draft."""
    from supervision.cli import cli_actor, run_service
    from supervision.credit.grading.runs import run_grading

    if queued:
        from supervision import jobs
        from supervision.credit.grading.runs import grading_job

        if jobs.queue() is None:
            from supervision.cli import fail

            fail(f"Redis 无法连接（REDIS_URL={current_app.config.get('REDIS_URL') or '未设置'}），请去掉 --queue 直接运行")
        submitted = jobs.enqueue(grading_job, year, jurisdiction, by or cli_actor().ref)
        click.echo(f"grading {year} queued as job {submitted.job_id}; a `supervision worker` runs it")
        return

    bar, step = _progress_runner(f"grading {year}", not as_json)
    try:
        result = run_service(lambda: run_grading(db.session, cli_actor(), year=year, jurisdiction=jurisdiction, by=by,
                                                 policy_roots=_policy_roots(), progress=step))
    finally:
        if bar is not None:
            bar.render_finish()
    _print_result(result, as_json, "draft")


@grade_group.command("approve")
@click.argument("run_id", type=int)
@click.option("--by", "by", required=True, help="name of the approving supervisor")
@with_appcontext
def grade_approve(run_id, by):
    """Approve a draft run."""
    from supervision.cli import cli_actor, run_service
    from supervision.credit.grading.runs import approve

    run = run_service(lambda: approve(db.session, cli_actor(), run_id, by=by))
    click.echo(f"run {run.id} approved by {run.approved_by}")


@grade_group.command("publish")
@click.argument("run_id", type=int)
@click.option("--by", "by", required=True, help="name of the publishing supervisor")
@with_appcontext
def grade_publish(run_id, by):
    """Publish an approved run: immutable from now on; its digest goes into the audit chain."""
    from supervision.cli import cli_actor, run_service
    from supervision.credit.grading.runs import publish

    run = run_service(lambda: publish(db.session, cli_actor(), run_id, by=by))
    click.echo(f"run {run.id} published by {run.published_by}; digest {run.digest}")


@grade_group.command("reopen")
@click.argument("run_id", type=int)
@click.option("--reason", required=True)
@click.option("--by", "by", required=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def grade_reopen(run_id, reason, by, as_json):
    """A new draft for the same year and scope, superseding this run once published."""
    from supervision.cli import cli_actor, run_service
    from supervision.credit.grading.runs import reopen

    result = run_service(lambda: reopen(db.session, cli_actor(), run_id, reason=reason, by=by,
                                        policy_roots=_policy_roots()))
    _print_result(result, as_json, f"re-opened {run_id} as draft")


@grade_group.command("verify")
@click.argument("run_id", type=int)
@with_appcontext
def grade_verify(run_id):
    """Recompute a run from its stored policy and the records; exit 1 naming every difference."""
    from supervision.cli import fail
    from supervision.credit.grading.verify import verify_run
    from supervision.errors import DomainError

    try:
        report = verify_run(db.session, run_id)
    except DomainError as error:
        db.session.rollback()
        fail(error.message)
    db.session.rollback()
    for problem in report.problems:
        click.secho(problem, fg="red", err=True)
    for difference in report.differences:
        click.secho(str(difference), fg="red", err=True)
    if not report.ok:
        fail(f"run {run_id} does NOT verify: {len(report.differences)} establishment(s) differ, "
             f"{len(report.problems)} run-wide problem(s), {report.checked} grades recomputed")
    click.echo(f"run {run_id} verifies: {report.checked} grades recomputed exactly")


@grade_group.command("explain")
@click.argument("credit_code")
@click.option("--year", type=int)
@click.option("--run", "run_id", type=int, help="a specific run (e.g. a draft under review)")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def grade_explain(credit_code, year, run_id, as_json):
    """Why an establishment has its grade, record by record, in Chinese."""
    from dataclasses import asdict

    from supervision.cli import cli_actor, fail
    from supervision.credit.grading import explain as explaining
    from supervision.errors import DomainError

    try:
        establishment = explaining.establishment_by_code(db.session, credit_code)
        result = explaining.explain(db.session, cli_actor(), establishment, year=year, run_id=run_id)
    except DomainError as error:
        fail(error.message)
    if as_json:
        click.echo(json.dumps(asdict(result), ensure_ascii=False, default=str))
    else:
        click.echo(explaining.as_text(result))


@grade_group.command("summary")
@click.option("--year", type=int, required=True)
@click.option("--jurisdiction", "jurisdiction")
@click.option("--run", "run_id", type=int, help="summarise this run instead of the published one")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False))
@with_appcontext
def grade_summary(year, jurisdiction, run_id, out):
    """Write 分级评价结果汇总表 (.csv or .xlsx)."""
    from supervision.cli import fail
    from supervision.credit.grading.summary import write_summary
    from supervision.errors import DomainError

    try:
        run, n = write_summary(db.session, out, year=year, jurisdiction=jurisdiction, run_id=run_id)
    except DomainError as error:
        fail(error.message)
    click.echo(f"wrote {out}: run {run.id}, {n} establishments")


COMMANDS = (grade_group,)
