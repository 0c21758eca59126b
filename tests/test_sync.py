"""Offline bootstrap, delta sync since a cursor, and online look-ups for terminals."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditHead
from supervision.checklists import service as checklists
from supervision.devices import service as devices
from supervision.extensions import db
from supervision.inspections import tasks
from supervision.registry import plates
from supervision.registry.models import PlateToken
from tests import factories
from tests.terminal import CHECKLIST

CJK = re.compile(r"[\u4e00-\u9fff]")
SYNC_ENDPOINTS = ["/api/v1/sync/bootstrap", "/api/v1/sync/changes?cursor=0", "/api/v1/establishments?name=悦来宾馆"]


# --- helpers -------------------------------------------------------------------------------


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape, whole: {"error": {"code", "message", "fields"}} and nothing else."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and CJK.search(error["message"])
    assert isinstance(error["fields"], dict)
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in error["fields"].values())
    if code is not None:
        assert error["code"] == code
    return error


def get_ok(client, field, url: str, **params) -> dict:
    response = client.get(url, query_string=params, headers=field.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def bootstrap(client, field, **params) -> dict:
    return get_ok(client, field, "/api/v1/sync/bootstrap", **params)


def changes(client, field, cursor: int) -> dict:
    return get_ok(client, field, "/api/v1/sync/changes", cursor=cursor)


def all_changes(client, field, cursor: int) -> tuple[list[dict], int]:
    """Follow has_more to the end; every page's responses, and the final cursor."""
    pages = []
    for _ in range(100):
        page = changes(client, field, cursor)
        pages.append(page)
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["has_more"]:
            return pages, cursor
    raise AssertionError("changes never stopped saying has_more")


def grid_code(field) -> str:
    return field.establishment.grid.code


def other_grid_code(field) -> str:
    return field.other_establishment.grid.code


def new_establishment(grid: str | None, **overrides):
    est = factories.establishment(grid=grid, **overrides)
    db.session.commit()
    return est


def change_establishment(est, **overrides):
    """Update `est` through the registry service (same credit code), keeping what is not overridden."""
    values = dict(credit_code=est.credit_code, name=est.name, address=est.address,
                  grid=est.grid.code if est.grid else None, latitude=est.latitude, longitude=est.longitude,
                  legal_representative=est.legal_representative, status=est.status)
    values.update(overrides)
    changed = factories.establishment(**values)
    db.session.commit()
    return changed


def head_cursor(client, field) -> int:
    """The cursor a device that has seen everything holds: the head of the audit chain."""
    return db.session.execute(select(AuditHead.last_seq).where(AuditHead.id == 1)).scalar_one()


def active_token(est) -> str:
    return db.session.execute(
        select(PlateToken.token).where(PlateToken.establishment_id == est.id, PlateToken.revoked_at.is_(None))
    ).scalar_one()


def ids(items) -> list[int]:
    return [item["id"] for item in items]


# --- bootstrap -----------------------------------------------------------------------------


def test_bootstrap_sends_establishments_of_the_devices_grids_only(client, field):
    body = bootstrap(client, field)
    assert ids(body["establishments"]) == [field.establishment.id]
    assert field.other_establishment.id not in ids(body["establishments"])


def test_bootstrap_establishment_carries_its_active_plate_token_and_licences(client, field):
    plates.issue_plate(db.session, field.establishment, factories.ACTOR)  # the first token is now revoked
    db.session.commit()
    (est,) = bootstrap(client, field)["establishments"]
    assert est["plate_token"] == active_token(field.establishment)
    assert est["credit_code"] == field.establishment.credit_code
    assert est["grid_id"] == field.establishment.grid_id
    assert est["licences"] == [{"number": "玄卫公字〔2024〕第0001号", "kind": "公共场所卫生许可证",
                                "issued_on": "2024-01-01", "expires_on": "2028-01-01"}]


def test_bootstrap_sends_open_tasks_of_the_devices_grids_only(client, field):
    mine = tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                             kind="daily_patrol")
    cancelled = tasks.create_task(db.session, factories.ACTOR,
                                  establishment_credit_code=field.establishment.credit_code, kind="complaint")
    elsewhere = tasks.create_task(db.session, factories.ACTOR,
                                  establishment_credit_code=field.other_establishment.credit_code, kind="daily_patrol")
    db.session.commit()
    tasks.cancel_task(db.session, factories.ACTOR, cancelled.id)
    db.session.commit()
    body = bootstrap(client, field)
    assert ids(body["tasks"]) == [mine.id]
    assert elsewhere.id not in ids(body["tasks"]) and cancelled.id not in ids(body["tasks"])
    assert body["tasks"][0]["establishment_id"] == field.establishment.id
    assert body["tasks"][0]["status"] == "open"


def test_bootstrap_sends_published_checklist_versions_with_their_items(client, field):
    retired, _ = checklists.publish(db.session, factories.ACTOR, {**CHECKLIST, "code": "test_retired"})
    db.session.commit()
    checklists.retire(db.session, factories.ACTOR, "test_retired", retired.version)
    db.session.commit()
    body = bootstrap(client, field)
    versions = {v["id"]: v for v in body["checklist_versions"]}
    assert field.version.id in versions and retired.id not in versions
    version = versions[field.version.id]
    assert version["template_code"] == CHECKLIST["code"] and version["status"] == "published"
    assert [item["code"] for item in version["items"]] == [item["code"] for item in CHECKLIST["items"]]
    assert version["items"][2]["max"] == 0.10 and version["items"][2]["unit"] == "mg/m³"


def test_bootstrap_directory_lists_the_jurisdictions_inspectors_without_phone_numbers(client, field):
    elsewhere = factories.inspector(factories.jurisdiction(code="320104", name="秦淮区"))
    db.session.commit()
    response = client.get("/api/v1/sync/bootstrap", headers=field.headers)
    inspectors = response.get_json()["inspectors"]
    assert ids(inspectors) == sorted([field.inspector.id, field.partner.id])
    assert elsewhere.id not in ids(inspectors)
    assert all("phone" not in inspector for inspector in inspectors)
    assert "13800000000" not in response.get_data(as_text=True)


def test_bootstrap_sends_categories(client, field):
    categories = bootstrap(client, field)["categories"]
    by_code = {c["code"]: c for c in categories}
    assert "accommodation" in by_code
    assert set(by_code["accommodation"]) == {"code", "name", "group"}
    assert CJK.search(by_code["accommodation"]["name"])


def test_bootstrap_cursor_is_the_head_of_the_chain(client, field):
    before = head_cursor(client, field)
    body = bootstrap(client, field)
    assert body["cursor"] == before
    assert body["next_after_id"] is None


@pytest.fixture
def five_in_grid(app, field, monkeypatch):
    """Five establishments in the device's grid and a page size of 2."""
    monkeypatch.setitem(app.config, "SYNC_PAGE_SIZE", 2)
    extra = [factories.establishment(grid=grid_code(field), name=f"南京市玄武区第{n}宾馆") for n in range(4)]
    db.session.commit()
    return sorted([field.establishment.id] + [e.id for e in extra])


def test_bootstrap_pages_chain_through_next_after_id(client, field, five_in_grid):
    first = bootstrap(client, field)
    assert ids(first["establishments"]) == five_in_grid[:2] and first["next_after_id"] == five_in_grid[1]
    second = bootstrap(client, field, after_id=first["next_after_id"], cursor=first["cursor"])
    assert ids(second["establishments"]) == five_in_grid[2:4] and second["next_after_id"] == five_in_grid[3]
    third = bootstrap(client, field, after_id=second["next_after_id"], cursor=first["cursor"])
    assert ids(third["establishments"]) == five_in_grid[4:] and third["next_after_id"] is None


def test_bootstrap_pages_deliver_every_establishment_exactly_once(client, field, five_in_grid):
    seen, after_id, cursor = [], 0, None
    for _ in range(10):
        page = bootstrap(client, field, after_id=after_id, **({"cursor": cursor} if cursor is not None else {}))
        cursor = page["cursor"]
        seen += ids(page["establishments"])
        if page["next_after_id"] is None:
            break
        after_id = page["next_after_id"]
    assert seen == five_in_grid


def test_bootstrap_sends_tasks_checklists_directory_and_categories_on_the_first_page_only(client, field, five_in_grid):
    tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                      kind="daily_patrol")
    db.session.commit()
    first = bootstrap(client, field)
    assert first["tasks"] and first["checklist_versions"] and first["inspectors"] and first["categories"]
    later = bootstrap(client, field, after_id=first["next_after_id"], cursor=first["cursor"])
    assert later["establishments"]
    assert later["tasks"] == [] and later["checklist_versions"] == []
    assert later["inspectors"] == [] and later["categories"] == []


def test_bootstrap_echoes_the_cursor_passed_back_on_later_pages(client, field, five_in_grid):
    first = bootstrap(client, field)
    new_establishment(grid_code(field), name="南京市玄武区分页期间新开宾馆")  # moves the head on
    later = bootstrap(client, field, after_id=first["next_after_id"], cursor=first["cursor"])
    assert later["cursor"] == first["cursor"]
    assert head_cursor(client, field) > first["cursor"]


def test_bootstrap_refuses_a_negative_after_id(client, field):
    response = client.get("/api/v1/sync/bootstrap?after_id=-1", headers=field.headers)
    assert assert_error(response, 422, "validation_failed")["fields"].keys() == {"after_id"}


def test_bootstrap_refuses_a_misspelt_parameter_instead_of_restarting_at_page_one(client, field):
    response = client.get("/api/v1/sync/bootstrap?afterid=5", headers=field.headers)
    assert assert_error(response, 422, "validation_failed")["fields"] == {"afterid": ["不允许的字段"]}


def test_change_made_while_paging_the_bootstrap_arrives_with_the_first_delta(client, field, five_in_grid):
    first = bootstrap(client, field)
    renamed = change_establishment(field.establishment, name="南京市玄武区悦来大酒店有限公司")
    assert renamed.id in ids(first["establishments"])  # already delivered, with the old name
    cursor, after_id = first["cursor"], first["next_after_id"]
    while after_id is not None:
        page = bootstrap(client, field, after_id=after_id, cursor=cursor)
        after_id = page["next_after_id"]
    pages, _ = all_changes(client, field, cursor)
    delivered = {e["id"]: e for page in pages for e in page["establishments"]}
    assert delivered[renamed.id]["name"] == "南京市玄武区悦来大酒店有限公司"


# --- changes -------------------------------------------------------------------------------


def test_changes_bring_a_new_establishment_of_the_grid(client, field):
    cursor = head_cursor(client, field)
    est = new_establishment(grid_code(field), name="南京市玄武区新开宾馆")
    body = changes(client, field, cursor)
    assert ids(body["establishments"]) == [est.id]
    assert body["establishments"][0]["plate_token"] == active_token(est)


def test_changes_leave_out_a_new_establishment_of_another_grid(client, field):
    cursor = head_cursor(client, field)
    new_establishment(other_grid_code(field), name="南京市玄武区别处宾馆")
    body = changes(client, field, cursor)
    assert body["establishments"] == [] and body["removed_establishment_ids"] == []


def test_changes_bring_a_changed_establishment_with_its_new_value(client, field):
    cursor = head_cursor(client, field)
    change_establishment(field.establishment, address="江苏省南京市玄武区中山路99号")
    (est,) = changes(client, field, cursor)["establishments"]
    assert est["id"] == field.establishment.id and est["address"] == "江苏省南京市玄武区中山路99号"


def test_changes_name_an_establishment_moved_out_of_the_grids_as_removed(client, field):
    cursor = head_cursor(client, field)
    change_establishment(field.establishment, grid=other_grid_code(field))
    body = changes(client, field, cursor)
    assert body["removed_establishment_ids"] == [field.establishment.id]
    assert body["establishments"] == []


def test_changes_do_not_name_an_establishment_that_was_never_in_the_grids_as_removed(client, field):
    third = factories.grid(field.establishment.jurisdiction)
    db.session.commit()
    cursor = head_cursor(client, field)
    change_establishment(field.other_establishment, grid=third.code)
    change_establishment(field.other_establishment, address="江苏省南京市玄武区北京东路5号")
    body = changes(client, field, cursor)
    assert body["removed_establishment_ids"] == [] and body["establishments"] == []


def test_changes_bring_an_establishment_moved_into_the_grids(client, field):
    cursor = head_cursor(client, field)
    change_establishment(field.other_establishment, grid=grid_code(field))
    body = changes(client, field, cursor)
    assert ids(body["establishments"]) == [field.other_establishment.id]
    assert body["removed_establishment_ids"] == []


def test_changes_bring_an_establishment_whose_plate_was_reissued_with_the_new_token(client, field):
    old = active_token(field.establishment)
    cursor = head_cursor(client, field)
    plate = plates.issue_plate(db.session, field.establishment, factories.ACTOR)
    db.session.commit()
    (est,) = changes(client, field, cursor)["establishments"]
    assert est["id"] == field.establishment.id
    assert est["plate_token"] == plate.token != old


def test_changes_bring_a_new_open_task(client, field):
    cursor = head_cursor(client, field)
    task = tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                             kind="special_inspection")
    db.session.commit()
    body = changes(client, field, cursor)
    assert ids(body["tasks"]) == [task.id] and body["closed_task_ids"] == []


def test_changes_name_a_cancelled_task_as_closed(client, field):
    task = tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                             kind="daily_patrol")
    db.session.commit()
    cursor = head_cursor(client, field)
    tasks.cancel_task(db.session, factories.ACTOR, task.id)
    db.session.commit()
    body = changes(client, field, cursor)
    assert body["closed_task_ids"] == [task.id] and body["tasks"] == []


def test_changes_name_a_task_done_by_an_inspection_as_closed(client, field):
    task = tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                             kind="daily_patrol")
    db.session.commit()
    cursor = head_cursor(client, field)
    submitted = client.post("/api/v1/inspections", json=field.submission(task_id=task.id), headers=field.headers)
    assert submitted.status_code == 201, submitted.get_data(as_text=True)
    body = changes(client, field, cursor)
    assert body["closed_task_ids"] == [task.id] and body["tasks"] == []


def test_changes_leave_out_tasks_of_other_grids(client, field):
    cursor = head_cursor(client, field)
    task = tasks.create_task(db.session, factories.ACTOR,
                             establishment_credit_code=field.other_establishment.credit_code, kind="daily_patrol")
    db.session.commit()
    tasks.cancel_task(db.session, factories.ACTOR, task.id)
    db.session.commit()
    body = changes(client, field, cursor)
    assert body["tasks"] == [] and body["closed_task_ids"] == []


def test_changes_bring_a_newly_published_checklist_version(client, field):
    cursor = head_cursor(client, field)
    version, created = checklists.publish(db.session, factories.ACTOR, {**CHECKLIST, "title": "住宿场所卫生监督检查表（第二版）"})
    db.session.commit()
    assert created
    (sent,) = changes(client, field, cursor)["checklist_versions"]
    assert sent["id"] == version.id and sent["version"] == 2 and sent["title"] == "住宿场所卫生监督检查表（第二版）"
    assert len(sent["items"]) == len(CHECKLIST["items"])


def test_changes_name_a_retired_checklist_version(client, field):
    cursor = head_cursor(client, field)
    checklists.retire(db.session, factories.ACTOR, CHECKLIST["code"], field.version.version)
    db.session.commit()
    body = changes(client, field, cursor)
    assert body["retired_checklist_version_ids"] == [field.version.id]
    assert body["checklist_versions"] == []


def test_changes_in_an_unchanged_world_are_empty_and_keep_the_cursor(client, field):
    cursor = head_cursor(client, field)
    body = changes(client, field, cursor)
    assert body == {
        "cursor": cursor, "has_more": False, "establishments": [], "removed_establishment_ids": [], "tasks": [],
        "closed_task_ids": [], "checklist_versions": [], "retired_checklist_version_ids": [], "inspectors": [], "resync_required": False,
        "grades": [], "commitments": [], "self_inspections": [],
    }


def test_changes_page_with_has_more_and_deliver_everything(app, client, field, monkeypatch):
    cursor = head_cursor(client, field)
    monkeypatch.setitem(app.config, "SYNC_PAGE_SIZE", 2)
    created = [new_establishment(grid_code(field), name=f"南京市玄武区第{n}招待所").id for n in range(3)]
    first = changes(client, field, cursor)
    assert first["has_more"] is True and cursor < first["cursor"] < head_cursor(client, field)
    pages, final = all_changes(client, field, cursor)
    assert len(pages) > 1 and [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    delivered = [e["id"] for page in pages for e in page["establishments"]]
    assert set(delivered) == set(created)
    after = changes(client, field, final)  # nothing left behind the final cursor
    assert after["has_more"] is False and after["establishments"] == []


def test_changes_refuse_a_negative_cursor(client, field):
    response = client.get("/api/v1/sync/changes?cursor=-1", headers=field.headers)
    assert assert_error(response, 422, "validation_failed")["fields"].keys() == {"cursor"}


def test_changes_refuse_a_cursor_beyond_the_head(client, field):
    response = client.get(f"/api/v1/sync/changes?cursor={head_cursor(client, field) + 1}", headers=field.headers)
    error = assert_error(response, 422, "invalid_cursor")
    assert error["fields"].keys() == {"cursor"}


def test_changes_require_a_cursor(client, field):
    response = client.get("/api/v1/sync/changes", headers=field.headers)
    assert assert_error(response, 422, "validation_failed")["fields"].keys() == {"cursor"}


# --- look-up -------------------------------------------------------------------------------


def lookup(client, field, **params) -> list[int]:
    return ids(get_ok(client, field, "/api/v1/establishments", **params)["establishments"])


def test_lookup_by_plate_token_ignores_case(client, field):
    token = active_token(field.establishment)
    assert lookup(client, field, plate_token=token.lower()) == [field.establishment.id]
    assert lookup(client, field, plate_token=token) == [field.establishment.id]


def test_lookup_by_a_revoked_plate_token_finds_nothing(client, field):
    old = active_token(field.establishment)
    plates.issue_plate(db.session, field.establishment, factories.ACTOR)
    db.session.commit()
    assert lookup(client, field, plate_token=old) == []


def test_lookup_by_credit_code(client, field):
    assert lookup(client, field, credit_code=field.other_establishment.credit_code) == [field.other_establishment.id]


def test_lookup_by_part_of_the_name(client, field):
    assert lookup(client, field, name="悦来宾馆") == [field.establishment.id]


def test_lookup_by_name_treats_wildcards_literally(client, field):
    assert lookup(client, field, name="%%") == []


def test_lookup_without_a_parameter_is_refused(client, field):
    response = client.get("/api/v1/establishments", headers=field.headers)
    assert assert_error(response, 422, "validation_failed")["fields"] == {"plate_token": ["三者至少填写一项"]}


def test_lookup_with_an_unknown_parameter_is_refused(client, field):
    response = client.get("/api/v1/establishments?name=悦来宾馆&colour=red", headers=field.headers)
    assert assert_error(response, 422, "validation_failed")["fields"] == {"colour": ["不允许的字段"]}


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("url", SYNC_ENDPOINTS)
def test_sync_endpoints_refuse_a_request_without_a_token(client, field, url):
    assert_error(client.get(url), 401, "unauthenticated")


@pytest.mark.parametrize("url", SYNC_ENDPOINTS)
def test_sync_endpoints_refuse_a_revoked_device(client, field, url):
    devices.revoke_device(db.session, factories.ACTOR, field.device.id)
    db.session.commit()
    assert_error(client.get(url, headers=field.headers), 401, "device_revoked")


# --- statement counts ----------------------------------------------------------------------


def test_bootstrap_first_page_statement_count_does_not_grow_with_establishments(client, field, count_queries):
    for n in range(2):
        factories.establishment(grid=grid_code(field), name=f"南京市玄武区小{n}号宾馆")
    tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                      kind="daily_patrol")
    db.session.commit()
    bootstrap(client, field)  # warm-up
    db.session.expire_all()
    with count_queries() as few:
        assert len(bootstrap(client, field)["establishments"]) == 3
    for n in range(27):
        factories.establishment(grid=grid_code(field), name=f"南京市玄武区大{n}号宾馆")
        tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                          kind="daily_patrol")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        assert len(bootstrap(client, field)["establishments"]) == 30
    assert many() == few()


def test_changes_statement_count_does_not_grow_with_changed_establishments(client, field, count_queries):
    def changed(n: int, prefix: str) -> int:
        cursor = head_cursor(client, field)
        for i in range(n):
            factories.establishment(grid=grid_code(field), name=f"南京市玄武区{prefix}{i}号宾馆")
        tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                          kind="daily_patrol")
        db.session.commit()
        db.session.expire_all()
        return cursor

    cursor = changed(3, "甲")
    with count_queries() as few:
        assert len(changes(client, field, cursor)["establishments"]) == 3
    cursor = changed(30, "乙")
    with count_queries() as many:
        assert len(changes(client, field, cursor)["establishments"]) == 30
    assert many() == few()


def test_changing_the_devices_own_grids_asks_it_to_bootstrap_again(client, field):
    from supervision.registry import service as registry

    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    other_grid = field.other_establishment.grid
    registry.assign_grids(db.session, factories.ACTOR, field.inspector, [*field.inspector.grids, other_grid])
    db.session.commit()
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert changes["resync_required"] is True


def test_a_colleagues_grid_change_does_not_ask_for_a_new_bootstrap(client, field):
    from supervision.registry import service as registry

    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    registry.assign_grids(db.session, factories.ACTOR, field.partner, [field.other_establishment.grid])
    db.session.commit()
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert changes["resync_required"] is False
    assert [i["badge_no"] for i in changes["inspectors"]] == [field.partner.badge_no]


def test_a_bulk_load_asks_devices_to_bootstrap_again(client, field):
    from supervision import audit

    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    audit.record(db.session, factories.ACTOR, "demo.load", entity_type="demo", entity_id="1", after={"establishments": 10})
    db.session.commit()
    assert client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()["resync_required"] is True
