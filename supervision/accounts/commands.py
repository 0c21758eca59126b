"""`supervision accounts ...`: a supervisor issues and resets establishments' portal accounts."""
import click
from flask.cli import with_appcontext

from supervision.accounts import service as accounts
from supervision.cli import cli_actor, run_service
from supervision.extensions import db


@click.group("accounts")
def accounts_group():
    """Issue and reset the self-service portal accounts of establishments."""


@accounts_group.command("issue")
@click.argument("credit_code")
@with_appcontext
def issue(credit_code):
    """Issue the account of the establishment CREDIT_CODE and print its one-time initial password."""
    account, password = run_service(lambda: accounts.issue_account(db.session, cli_actor(), credit_code))
    click.echo(f"account {account.id} for {account.login}")
    click.echo(f"initial password: {password}  (shown once; the first sign-in must change it)")


@accounts_group.command("reset")
@click.argument("credit_code")
@with_appcontext
def reset(credit_code):
    """Reset the account of CREDIT_CODE: new one-time password, lock lifted, sessions ended."""
    account, password = run_service(lambda: accounts.reset_account(db.session, cli_actor(), credit_code))
    click.echo(f"account {account.id} for {account.login} reset")
    click.echo(f"initial password: {password}  (shown once; the first sign-in must change it)")
