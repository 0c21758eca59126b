"""`supervision accounts ...`: a supervisor issues, resets and shows establishments' portal
accounts, and grants or revokes the establishments an account holds."""
import click
from flask.cli import with_appcontext

from supervision.accounts import holdings
from supervision.accounts import service as accounts
from supervision.cli import cli_actor, run_service
from supervision.extensions import db


@click.group("accounts")
def accounts_group():
    """Issue and reset the self-service portal accounts of establishments."""


@accounts_group.command("issue")
@click.argument("credit_codes", nargs=-1, required=True)
@with_appcontext
def issue(credit_codes):
    """Issue one account for CREDIT_CODES (one establishment, or several of one legal person;
    the first is the sign-in name) and print its one-time initial password."""
    account, password = run_service(lambda: holdings.issue_account(db.session, cli_actor(), list(credit_codes)))
    click.echo(f"account {account.id} for {account.login} ({len(account.establishments)} establishment(s))")
    click.echo(f"initial password: {password}  (shown once; the first sign-in must change it)")


@accounts_group.command("reset")
@click.argument("credit_code")
@with_appcontext
def reset(credit_code):
    """Reset the account of CREDIT_CODE: new one-time password, lock lifted, sessions ended."""
    account, password = run_service(lambda: accounts.reset_account(db.session, cli_actor(), credit_code))
    click.echo(f"account {account.id} for {account.login} reset")
    click.echo(f"initial password: {password}  (shown once; the first sign-in must change it)")


@accounts_group.command("grant")
@click.argument("login")
@click.argument("credit_code")
@with_appcontext
def grant(login, credit_code):
    """Let the account LOGIN act for CREDIT_CODE too (same legal representative)."""
    account = run_service(lambda: holdings.grant(db.session, cli_actor(), login, credit_code))
    click.echo(f"account {account.login} now holds {len(account.establishments)} establishment(s)")


@accounts_group.command("revoke")
@click.argument("login")
@click.argument("credit_code")
@with_appcontext
def revoke(login, credit_code):
    """Stop the account LOGIN acting for CREDIT_CODE."""
    account = run_service(lambda: holdings.revoke(db.session, cli_actor(), login, credit_code))
    click.echo(f"account {account.login} now holds {len(account.establishments)} establishment(s)")


@accounts_group.command("show")
@click.argument("login")
@with_appcontext
def show(login):
    """The account LOGIN: its establishments, lock and open sessions."""
    view = run_service(lambda: holdings.describe(db.session, cli_actor(), login))
    account = view.account
    click.echo(f"account {account.id}  login {account.login}")
    click.echo(f"must change password: {'yes' if account.must_change_password else 'no'}")
    click.echo(f"locked: {'until ' + account.locked_until.strftime('%Y-%m-%d %H:%M') + ' UTC' if view.locked else 'no'}")
    click.echo(f"open sessions and API tokens: {view.open_sessions}")
    for establishment in view.establishments:
        click.echo(f"  {establishment.id}\t{establishment.credit_code}\t{establishment.name}")
