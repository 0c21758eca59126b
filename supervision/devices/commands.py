"""`supervision devices ...`: a supervisor's handling of terminals."""
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from supervision.cli import cli_actor, run_service
from supervision.devices import service as devices
from supervision.extensions import db


@click.group("devices")
def devices_group():
    """Enrol, list and revoke handheld terminals."""


@devices_group.command("enrol")
@click.argument("badge_no")
@click.option("--label", default="手持执法终端", show_default=True, help="name to recognise the device by")
@with_appcontext
def enrol(badge_no, label):
    """Create a device for the inspector BADGE_NO and print its one-time enrolment code."""
    ttl = timedelta(hours=current_app.config["ENROLMENT_CODE_TTL_HOURS"])
    device, code = run_service(lambda: devices.enrol_device(
        db.session, cli_actor(), badge_no=badge_no, label=devices.check_label(label), code_ttl=ttl))
    click.echo(f"device {device.id} for {device.inspector.name} ({badge_no})")
    click.echo(f"enrolment code: {code}  (valid {ttl.total_seconds() / 3600:.0f} h, works once)")


@devices_group.command("revoke")
@click.argument("device_id", type=int)
@with_appcontext
def revoke(device_id):
    """Revoke a lost or retired device: its tokens stop working at once."""
    device = run_service(lambda: devices.revoke_device(db.session, cli_actor(), device_id))
    click.echo(f"device {device.id} revoked")


@devices_group.command("list")
@with_appcontext
def list_devices():
    """List devices and their state."""
    for device in devices.list_devices(db.session):
        state = "revoked" if device.revoked_at else ("enrolled" if device.enrolled_at else "awaiting enrolment")
        click.echo(f"{device.id}\t{device.inspector.badge_no}\t{device.inspector.name}\t{device.label}\t{state}")
