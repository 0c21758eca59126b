"""Number items carry plausible physical bounds, separate from their legal limits: a
measurement of 1e308 is a typing or device error, refused on arrival, never a finding."""
import copy
import json

import pytest

from supervision.checklists import service as checklists
from supervision.errors import ValidationFailed
from supervision.extensions import db
from tests import factories
from tests.terminal import CHECKLIST
from tests.test_api_errors import assert_error
from tests.test_submissions import stored_state


def with_measurement(field, value):
    body = field.submission()
    body["answers"][2] = {"item_code": "T03", "number": value}
    return body


@pytest.mark.parametrize("value", [1e308, -0.5, 100.01])
def test_measurement_outside_the_plausible_range_is_refused_naming_it(client, field, value):
    before = stored_state()
    response = client.post("/api/v1/inspections", data=json.dumps(with_measurement(field, value)),
                           content_type="application/json", headers=field.headers)
    error = assert_error(response, 422, "validation_failed")
    assert error["fields"]["answers.2.number"] == ["检测值超出合理范围（0～100 mg/m³），请核对后重新填写"]
    assert stored_state() == before


def test_measurement_over_the_legal_limit_but_plausible_is_a_finding(client, field):
    response = client.post("/api/v1/inspections", json=with_measurement(field, 0.35), headers=field.headers)
    assert response.status_code == 201
    assert [f["item_code"] for f in response.get_json()["findings"]] == ["T03"]


def test_bounds_reach_the_terminal_in_the_bootstrap(client, field):
    versions = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["checklist_versions"]
    item = next(i for v in versions for i in v["items"] if i["code"] == "T03")
    assert (item["plausible_min"], item["plausible_max"]) == (0, 100)


@pytest.mark.parametrize("change", [
    {"plausible_min": None}, {"plausible_max": None}, {"plausible_min": 5, "plausible_max": 1},
    {"plausible_max": 0.05}, {"plausible_max": float("inf")},
], ids=["no lower bound", "no upper bound", "inverted", "legal limit outside", "infinite"])
def test_number_item_without_sound_plausible_bounds_is_not_published(app, change):
    definition = copy.deepcopy(CHECKLIST)
    definition["items"][2].update(change)
    with pytest.raises(ValidationFailed) as refused:
        checklists.publish(db.session, factories.ACTOR, definition)
    assert "items.2" in refused.value.fields


def test_every_starter_number_item_has_plausible_bounds(app):
    checklists.load_directory(db.session, factories.ACTOR)
    numbers = [i for v in checklists.versions_in_use(db.session) for i in v.items if i.answer_type == "number"]
    assert numbers
    for item in numbers:
        assert item.plausible_min is not None and item.plausible_max is not None, item.code

