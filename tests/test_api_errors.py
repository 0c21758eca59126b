"""The one JSON error shape for /api, and Chinese HTML pages everywhere else."""
from __future__ import annotations

import json
import re

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from supervision.extensions import db
from supervision.registry import plates
from supervision.sync import service as sync_service
from tests.factories import ACTOR
from tests.terminal import sha, upload

CJK = re.compile(r"[\u4e00-\u9fff]")
EXTERNAL_URL = re.compile(r"""(?:https?:)?//([A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost)""")


def assert_error(response, status: int, code: str) -> dict:
    """The whole shape: {"error": {"code", "message", "fields"}}, nothing more, message in Chinese."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and CJK.search(error["message"]), error["message"]
    assert isinstance(error["fields"], dict)
    for path, messages in error["fields"].items():
        assert isinstance(path, str)
        assert isinstance(messages, list) and messages
        assert all(isinstance(m, str) and CJK.search(m) for m in messages), (path, messages)
    return error


def post_inspection(client, field, body):
    return client.post("/api/v1/inspections", json=body, headers=field.headers)


# --- request bodies ------------------------------------------------------------------------


def test_malformed_json_is_a_400_named_malformed_json(client, field):
    response = client.post("/api/v1/inspections", data='{"uuid": "abc", ', content_type="application/json",
                           headers=field.headers)
    error = assert_error(response, 400, "malformed_json")
    assert error["fields"] == {"_body": ["请求体不是有效的 JSON"]}


def test_json_array_instead_of_object_is_refused_in_the_error_shape(client, field):
    response = post_inspection(client, field, [field.submission()])
    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {"_schema": ["应为 JSON 对象"]}


def test_wrong_type_is_named_by_field(client, field):
    error = assert_error(post_inspection(client, field, field.submission(establishment_id="abc")), 422,
                         "validation_failed")
    assert error["fields"] == {"establishment_id": ["应为整数"]}


def test_unknown_field_is_named(client, field):
    error = assert_error(post_inspection(client, field, field.submission(colour="red")), 422, "validation_failed")
    assert error["fields"] == {"colour": ["不允许的字段"]}


def test_every_missing_required_field_is_listed(client, field):
    error = assert_error(post_inspection(client, field, {}), 422, "validation_failed")
    required = {"uuid", "establishment_id", "checklist_version_id", "inspectors", "started_at", "ended_at", "gps",
                "answers", "signature"}
    assert error["fields"] == {name: ["缺少必填字段"] for name in required}


def test_nested_field_errors_are_flattened_to_dotted_paths(client, field):
    body = field.submission(gps={"lat": "north", "lng": 118.8, "accuracy_m": 5})
    body["answers"][1] = {"result": "pass"}
    error = assert_error(post_inspection(client, field, body), 422, "validation_failed")
    assert error["fields"] == {"gps.lat": ["应为数字"], "answers.1.item_code": ["缺少必填字段"]}


def test_validation_messages_are_chinese(client, field):
    body = field.submission(uuid="not-a-uuid", started_at="2026-11-20T09:30:00", inspectors="B1")
    error = assert_error(post_inspection(client, field, body), 422, "validation_failed")
    assert set(error["fields"]) == {"uuid", "started_at", "inspectors"}  # assert_error checked each is Chinese


# --- size limits ---------------------------------------------------------------------------


def test_oversize_json_body_is_a_413_naming_the_limit(app, client, field, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 1000)
    body = field.submission(notes="很" * 1000)
    assert len(json.dumps(body).encode()) > 1000
    error = assert_error(post_inspection(client, field, body), 413, "too_large")
    assert "1000" in error["message"]


def test_json_body_over_the_default_two_mebibytes_is_a_413(client, field):
    body = field.submission(notes="x" * (2 * 1024 * 1024))
    error = assert_error(post_inspection(client, field, body), 413, "too_large")
    assert str(2 * 1024 * 1024) in error["message"]


def test_oversize_attachment_is_a_413_naming_the_attachment_limit(app, client, field, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 4096)
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * 5000
    error = assert_error(upload(client, field, data), 413, "too_large")
    assert "4096" in error["message"]


def test_streamed_attachment_without_length_is_a_413_naming_the_attachment_limit(app, client, field, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 4096)
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * 100_000
    environ = EnvironBuilder(path=f"/api/v1/attachments/{sha(data)}", method="PUT", data=data,
                             headers={**field.headers, "Content-Type": "image/png"}).get_environ()
    del environ["CONTENT_LENGTH"]  # a chunked upload: nothing to refuse up front, refused while reading
    environ["wsgi.input_terminated"] = True
    error = assert_error(client.open(Request(environ)), 413, "too_large")
    assert "4096" in error["message"]


def test_attachment_upload_is_held_to_the_attachment_limit_not_the_json_limit(app, client, field, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_JSON_BYTES", 64)
    photo = field.photo(7)
    assert len(photo) > 64
    response = upload(client, field, photo)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["sha256"] == sha(photo)


# --- routing and crashes -------------------------------------------------------------------


def test_unknown_api_path_is_a_404_in_the_error_shape(client):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_on_an_api_route_is_a_405_with_allow(client, field):
    response = client.delete("/api/v1/sync/bootstrap", headers=field.headers)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in {m.strip() for m in response.headers["Allow"].split(",")}


def test_unexpected_exception_is_a_500_without_traceback(client, field, monkeypatch, caplog):
    def crash(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(sync_service, "changes_since", crash)
    response = client.get("/api/v1/sync/changes?cursor=0", headers=field.headers)
    error = assert_error(response, 500, "internal_error")
    assert error["fields"] == {}
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "secret internal detail", ".py"):
        assert leak not in text
    assert "secret internal detail" in caplog.text  # logged for the operators, not sent


def test_unexpected_exception_in_a_route_of_a_fresh_app_is_a_500_without_traceback(fresh_app):
    def boom():
        raise ZeroDivisionError("division detail")

    fresh_app.add_url_rule("/api/v1/boom", "boom", boom)
    response = fresh_app.test_client().get("/api/v1/boom")
    assert_error(response, 500, "internal_error")
    assert "ZeroDivisionError" not in response.get_data(as_text=True)


# --- public pages --------------------------------------------------------------------------


def assert_chinese_page(response, status: int):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    return page


def test_unknown_public_path_is_a_chinese_404_page(client):
    page = assert_chinese_page(client.get("/no-such-page"), 404)
    assert "页面不存在" in page


def test_home_page_is_chinese_and_loads_nothing_from_other_hosts(client):
    page = assert_chinese_page(client.get("/"), 200)
    assert CJK.search(page)
    hosts = set(EXTERNAL_URL.findall(page))
    assert hosts <= {"hs.example.cn"}, hosts


def test_plate_page_shows_the_establishment(client, field):
    token = field.establishment.active_plate.token
    page = assert_chinese_page(client.get(f"/P/{token}"), 200)
    assert field.establishment.name in page
    assert field.establishment.credit_code in page
    assert not set(EXTERNAL_URL.findall(page)) - {"hs.example.cn"}


def test_plate_page_of_an_unknown_token_is_a_404_page(client):
    page = assert_chinese_page(client.get("/P/ZZZZZZZZZZ"), 404)
    assert "不是卫生健康部门发放的有效二维码身份牌" in page


def test_plate_page_of_a_replaced_token_says_it_was_replaced(client, field):
    old = field.establishment.active_plate.token
    plates.issue_plate(db.session, field.establishment, ACTOR)
    db.session.commit()
    assert "已换发新标牌" in assert_chinese_page(client.get(f"/P/{old}"), 200)


# --- health --------------------------------------------------------------------------------


def test_healthz_answers_its_json_shape(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "reachable", "dialect": db.engine.dialect.name}


@pytest.mark.parametrize("method", ["post", "delete"])
def test_healthz_wrong_method_is_a_405_in_the_error_shape(client, method):
    assert_error(getattr(client, method)("/healthz"), 405, "method_not_allowed")
