"""`supervision tasks ...`."""
import click
from flask.cli import with_appcontext

from supervision.cli import cli_actor, run_service
from supervision.extensions import db
from supervision.inspections import tasks
from supervision.inspections.models import TASK_KINDS


@click.group("tasks")
def tasks_group():
    """Create and cancel inspection tasks."""


@tasks_group.command("create")
@click.argument("credit_code")
@click.option("--kind", type=click.Choice(TASK_KINDS), default="daily_patrol", show_default=True)
@click.option("--due", "due_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@click.option("--note", default=None)
@with_appcontext
def create(credit_code, kind, due_on, note):
    """Create a task to inspect the establishment CREDIT_CODE; its grid's terminals get it."""
    task = run_service(lambda: tasks.create_task(db.session, cli_actor(), establishment_credit_code=credit_code,
                                                 kind=kind, due_on=due_on.date() if due_on else None, note=note))
    click.echo(f"task {task.id} created for grid {task.grid_id}")


@tasks_group.command("cancel")
@click.argument("task_id", type=int)
@with_appcontext
def cancel(task_id):
    run_service(lambda: tasks.cancel_task(db.session, cli_actor(), task_id))
    click.echo(f"task {task_id} cancelled")


@click.group("inspections")
def inspections_group():
    """Inspections received from terminals."""


@inspections_group.command("settle")
@click.option("--stale", is_flag=True, required=True,
              help="settle every inspection that has all its files but was never settled")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), default=5, show_default=True,
              metavar="MINUTES", help="only those received at least this long ago")
@with_appcontext
def settle(stale, older_than):
    """Settle what nobody touched again (safe from cron, beside uploads, and twice at once)."""
    from supervision.inspections.jobs import settle_stale_inspections

    settled = settle_stale_inspections(older_than_minutes=older_than)
    for uuid in settled:
        click.echo(f"settled {uuid}")
    click.echo(f"{len(settled)} inspection(s) settled")


@click.group("uploads")
def uploads_group():
    """Resumable video uploads (tus)."""


@uploads_group.command("cleanup")
@click.option("--queue", "use_queue", is_flag=True, help="hand the job to the RQ queue instead of running it here")
@with_appcontext
def cleanup(use_queue):
    """Remove expired unfinished uploads and their partial files (safe from cron)."""
    from supervision.inspections.jobs import cleanup_expired_uploads

    if use_queue:
        from supervision import jobs

        submitted = jobs.enqueue(cleanup_expired_uploads)
        if submitted.queued:
            click.echo(f"queued job {submitted.job_id}")
            return
        removed = submitted.result
    else:
        removed = cleanup_expired_uploads()
    for upload_id in removed:
        click.echo(f"removed {upload_id}")
    click.echo(f"{len(removed)} expired upload(s) removed")
