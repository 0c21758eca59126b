"""A second start of the server (demo --if-empty on a filled database) still says where to
begin: a fresh enrolment code that works, and a plate page."""
from __future__ import annotations

from sqlalchemy import func, select

from supervision.devices.models import Device
from supervision.extensions import db
from supervision.registry.models import Establishment


def enrolment_code(output: str) -> str:
    return output.split("with code ")[1].split()[0]


def test_second_run_prints_a_working_code_and_a_plate_url(runner, client):
    first = runner.invoke(args=["demo", "--establishments", "30", "--seed", "4", "--tasks", "2"])
    assert first.exit_code == 0, first.output
    devices = db.session.scalar(select(func.count()).select_from(Device))

    again = runner.invoke(args=["demo", "--establishments", "30", "--if-empty"])

    assert again.exit_code == 0, again.output
    assert "not loaded" in again.output and "/P/" in again.output
    assert db.session.scalar(select(func.count()).select_from(Establishment)) == 30
    assert db.session.scalar(select(func.count()).select_from(Device)) == devices  # the same demo device
    assert client.post("/api/v1/devices/enrol", json={"code": enrolment_code(again.output)}).status_code == 201


def test_after_the_demo_device_enrolled_a_restart_prepares_another(runner, client):
    first = runner.invoke(args=["demo", "--establishments", "30", "--seed", "5", "--tasks", "2"])
    assert client.post("/api/v1/devices/enrol", json={"code": enrolment_code(first.output)}).status_code == 201

    again = runner.invoke(args=["demo", "--establishments", "30", "--if-empty"])

    assert again.exit_code == 0, again.output
    assert client.post("/api/v1/devices/enrol", json={"code": enrolment_code(again.output)}).status_code == 201
