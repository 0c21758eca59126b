"""Operations take an actor and hold their own access rule: a terminal and a supervisor at a
desk (or the CLI) go through the same rule in the service, not in a view."""
import pytest

from supervision import audit
from supervision.errors import Forbidden, NotFound
from supervision.extensions import db
from supervision.inspections import penalties, reading
from tests import factories

URL = "/api/v1/inspections"


def failed_inspection(client, field) -> tuple[str, int]:
    body = field.submission(answers=[{"item_code": "T01", "result": "fail"}, {"item_code": "T02", "result": "pass"},
                                     {"item_code": "T03", "number": 0.05}])
    result = client.post(URL, json=body, headers=field.headers).get_json()
    return body["uuid"], result["findings"][0]["id"]


def test_a_desk_user_of_another_jurisdiction_cannot_see_or_open_a_case_on_an_inspection(client, field):
    uuid, finding_id = failed_inspection(client, field)
    elsewhere = factories.jurisdiction(code="320105", name="建邺区")
    db.session.flush()
    outsider = audit.Actor.user("clerk", jurisdiction_id=elsewhere.id)
    with pytest.raises(NotFound):
        reading.visible_inspection(db.session, outsider, uuid)
    with pytest.raises(NotFound):
        penalties.open_penalty_case(db.session, outsider, uuid, [finding_id], "立案")


def test_a_desk_user_of_the_jurisdiction_sees_the_inspection(client, field):
    uuid, _ = failed_inspection(client, field)
    insider = audit.Actor.user("clerk", jurisdiction_id=field.inspector.jurisdiction_id)
    assert reading.visible_inspection(db.session, insider, uuid).uuid == uuid


def test_opening_a_case_needs_an_inspector_even_at_the_cli(client, field):
    uuid, finding_id = failed_inspection(client, field)
    with pytest.raises(Forbidden):
        penalties.open_penalty_case(db.session, audit.Actor.cli("root"), uuid, [finding_id], "立案")


def test_the_penalty_case_rule_is_the_services_for_a_device_too(client, field):
    uuid, finding_id = failed_inspection(client, field)
    device = field.device
    actor = audit.Actor.device(device.id, field.inspector.id, field.inspector.badge_no,
                               jurisdiction_id=field.inspector.jurisdiction_id)
    case = penalties.open_penalty_case(db.session, actor, uuid, [finding_id], "无证经营，拟立案查处")
    assert case.opened_by_id == field.inspector.id
