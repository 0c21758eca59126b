"""`supervision demo`."""
import click


@click.command("demo")
def demo_command():
    """Fill the database with demo data."""
    raise click.ClickException("not implemented yet")
