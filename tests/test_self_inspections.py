"""Self-inspection (自查自纠, issue 19): the establishment fills the checklist version inspectors
use for its category and records its corrections; refused whole with every problem next to its
field; inspectors receive the latest one in the terminal sync. Through HTTP."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.checklists import service as checklists
from supervision.credit.calendar import china_today
from supervision.errors import ValidationFailed
from supervision.extensions import db
from supervision.self_inspections import service
from supervision.self_inspections.models import SelfInspection
from tests import factories
from tests.public_support import csrf_token
from tests.terminal import CHECKLIST
from tests.test_portal_accounts import ready


def form_url(establishment) -> str:
    return f"/portal/establishments/{establishment.id}/self-inspections/new"


def good_form(field, **overrides) -> dict:
    """T02 failed and corrected; T03 measured above its limit (a failure) and still in progress."""
    form = {"checklist_version_id": str(field.version.id), "result-T01": "pass", "result-T02": "fail",
            "measure-T02": "已组织从业人员补办健康证明", "state-T02": "done",
            "completed-T02": china_today().isoformat(), "number-T03": "0.2",
            "measure-T03": "加强客房通风，更换家具", "state-T03": "in_progress", "result-T04": "pass"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def submit(client, establishment, form: dict, *, with_token=True):
    data = dict(form)
    if with_token:
        data["csrf_token"] = csrf_token(client.get(form_url(establishment)).get_data(as_text=True))
    return client.post(form_url(establishment), data=data)


def stored() -> list[SelfInspection]:
    return list(db.session.execute(select(SelfInspection)).scalars())


@pytest.fixture
def signed_in(client, runner, field):
    ready(client, runner, field.establishment)
    return field.establishment


def test_the_form_shows_the_inspectors_checklist_for_the_category(client, signed_in, field):
    html = client.get(form_url(signed_in)).get_data(as_text=True)
    assert CHECKLIST["title"] in html and f'value="{field.version.id}"' in html
    for item in CHECKLIST["items"]:
        assert item["text"] in html
    assert 'name="number-T03"' in html and 'name="measure-T01"' in html and 'name="csrf_token"' in html


def test_a_self_inspection_is_stored_with_its_corrections_and_listed(client, signed_in, field):
    response = submit(client, signed_in, good_form(field))
    assert response.status_code == 302, response.get_data(as_text=True)
    [row] = stored()
    assert row.establishment_id == signed_in.id and row.checklist_version_id == field.version.id
    assert {a["item_code"]: a["result"] for a in row.answers} == {"T01": "pass", "T02": "fail", "T03": "fail",
                                                                  "T04": "pass"}
    assert row.corrections == {
        "T02": {"measure": "已组织从业人员补办健康证明", "completed_on": china_today().isoformat()},
        "T03": {"measure": "加强客房通风，更换家具", "completed_on": None}}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "发现 2 项不合格" in page and "整改中" in page and "已组织从业人员补办健康证明" in page
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "self_inspection.submit")).scalar_one()
    assert entry.entity_type == "self_inspections" and entry.entity_id == str(row.id)


@pytest.mark.parametrize("overrides, field_name, message", [
    ({"result-T01": None}, "T01", "未作答"),
    ({"measure-T02": ""}, "T02", "请填写整改措施"),
    ({"number-T03": "5000"}, "T03", "超出合理范围"),
    ({"number-T03": "很多"}, "T03", "请填写数字"),
    ({"completed-T02": (china_today() + timedelta(days=3)).isoformat()}, "T02", "完成日期不能晚于今天"),
    ({"completed-T02": ""}, "T02", "请填写整改完成日期"),
    ({"measure-T01": "无需整改却填写"}, "T01", "未判定为不合格"),
])
def test_each_problem_is_refused_next_to_its_field_and_nothing_is_stored(client, signed_in, field, overrides,
                                                                          field_name, message):
    response = submit(client, signed_in, good_form(field, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert "加强客房通风，更换家具" in html  # the user's input is kept
    assert stored() == [] and not db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "self_inspection.submit")).first()


def test_a_checklist_version_of_another_category_is_refused(client, signed_in, field):
    other = copy.deepcopy(CHECKLIST)
    other.update(code="test_medical", title="医疗机构检查表（测试）", categories=["medical"])
    version, _ = checklists.publish(db.session, factories.ACTOR, other)
    db.session.flush()
    response = submit(client, signed_in, good_form(field, checklist_version_id=str(version.id)))
    assert response.status_code == 400 and "不适用于本单位的类别" in response.get_data(as_text=True)
    assert stored() == []


def test_an_unknown_item_is_refused_by_the_service(app, signed_in, field):
    from supervision.accounts.models import AccountEstablishment
    from supervision.audit.actor import Actor

    link = db.session.execute(select(AccountEstablishment).where(
        AccountEstablishment.establishment_id == signed_in.id)).scalar_one()
    actor = Actor.establishment(link.account_id, (signed_in.id,))
    answers = [{"item_code": "T01", "result": "pass"}, {"item_code": "T02", "result": "pass"},
               {"item_code": "T03", "number": 0.05}, {"item_code": "T04", "result": "pass"},
               {"item_code": "X99", "result": "pass"}]
    with pytest.raises(ValidationFailed) as refused:
        service.submit(db.session, actor, signed_in.id, checklist_version_id=field.version.id, answers=answers,
                       corrections={})
    assert refused.value.fields == {"answers.4.item_code": ["检查表中没有项目“X99”"]}
    assert stored() == []


def test_bootstrap_carries_the_latest_self_inspection(client, signed_in, field):
    assert submit(client, signed_in, good_form(field)).status_code == 302
    assert submit(client, signed_in, good_form(field, **{"result-T02": "pass", "measure-T02": ""})).status_code == 302
    latest = max(stored(), key=lambda s: s.id)
    body = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()
    [carried] = body["self_inspections"]
    assert carried["id"] == latest.id and carried["establishment_id"] == signed_in.id
    assert carried["checklist_version_id"] == field.version.id and carried["submitted_at"]
    assert carried["corrections"] == {"T03": {"measure": "加强客房通风，更换家具", "completed_on": None}}
    assert {a["item_code"]: a["result"] for a in carried["answers"]}["T03"] == "fail"


def test_delta_sync_carries_a_new_self_inspection_in_the_device_grids_only(client, runner, field):
    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    ready(client, runner, field.other_establishment)  # not in the device's grids
    assert submit(client, field.other_establishment, good_form(field)).status_code == 302
    assert client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()["self_inspections"] == []
    client.post("/portal/logout", data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True))})
    ready(client, runner, field.establishment)
    assert submit(client, field.establishment, good_form(field)).status_code == 302
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert [s["establishment_id"] for s in changes["self_inspections"]] == [field.establishment.id]


def test_another_establishments_self_inspections_are_refused_and_audited(client, signed_in, field):
    other = field.other_establishment
    assert client.get(f"/portal/establishments/{other.id}/self-inspections").status_code == 403
    assert client.get(form_url(other)).status_code == 403
    response = client.post(form_url(other), data={
        "csrf_token": csrf_token(client.get(form_url(signed_in)).get_data(as_text=True)), **good_form(field)})
    assert response.status_code == 403 and stored() == []
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars().all()
    assert [e.entity_id for e in refused] == [str(other.id)] * 3
    assert "submit_self_inspection" in refused[2].payload


def test_a_post_without_csrf_token_is_refused(client, signed_in, field):
    response = submit(client, signed_in, good_form(field), with_token=False)
    assert response.status_code == 400 and stored() == []


@pytest.mark.parametrize("version_id", ["0", "99999999999999999999", "abc"])
def test_a_checklist_version_that_cannot_exist_is_a_field_error_not_a_server_error(client, signed_in, field,
                                                                                   version_id):
    response = submit(client, signed_in, good_form(field, checklist_version_id=version_id))
    assert response.status_code == 400 and "检查表版本不存在" in response.get_data(as_text=True)
    assert stored() == []


def test_photo_items_are_the_inspectors_and_need_no_answer(client, signed_in, field):
    response = submit(client, signed_in, good_form(field, **{"result-T04": None}))
    assert response.status_code == 302
    assert "T04" not in {a["item_code"] for a in stored()[0].answers}
