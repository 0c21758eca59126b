"""Hostile and extreme input is refused at the boundary with a 4xx in the error shape, and
nothing is written: integers past 64 bits, lone surrogates and control characters, dates in
year 1 or 9999 with 23-hour offsets, bodies nested ten thousand deep or streamed past the
limit, JSON sent under another media type."""
from __future__ import annotations

import io
import json

import pytest
from marshmallow import Schema, fields

from field_api.schemas.types import BoundedDate, BoundedInteger, FieldDateTime, Text
from tests.test_api_errors import assert_error
from tests.test_submissions import stored_state
from tests.terminal import png, sha

URL = "/api/v1/inspections"


def post_raw(client, field, body: dict, url: str = URL):
    """json.dumps escapes lone surrogates as \\ud800, as a hostile client would send them."""
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=field.headers)


HOSTILE_SUBMISSIONS = {
    "id of 2**63": (lambda f: f.submission(establishment_id=2**63), "establishment_id"),
    "id of 2**70": (lambda f: f.submission(establishment_id=2**70), "establishment_id"),
    "id past the INTEGER column": (lambda f: f.submission(establishment_id=2**31), "establishment_id"),
    "negative id": (lambda f: f.submission(checklist_version_id=-(2**63) - 1), "checklist_version_id"),
    "task id of 2**64": (lambda f: f.submission(task_id=2**64), "task_id"),
    "attachment size of 2**63": (
        lambda f: f.submission(attachments=[{**f.submission()["attachments"][0], "size": 2**63}]), "attachments.0.size"),
    "surrogate in notes": (lambda f: f.submission(notes="x\ud800y"), "notes"),
    "NUL in notes": (lambda f: f.submission(notes="a\x00b"), "notes"),
    "escape character in notes": (lambda f: f.submission(notes="a\x1bb"), "notes"),
    "surrogate in the signer's name": (
        lambda f: f.submission(signature={**f.submission()["signature"], "signer_name": "王\udfff"}),
        "signature.signer_name"),
    "line break in the signer's name": (
        lambda f: f.submission(signature={**f.submission()["signature"], "signer_name": "王\n建国"}),
        "signature.signer_name"),
    "surrogate in answer text": (
        lambda f: f.submission(answers=[*f.submission()["answers"], {"item_code": "T05", "text": "\ud83d"}]),
        "answers.3.text"),
    "NUL in an answer note": (
        lambda f: f.submission(answers=[{"item_code": "T01", "result": "pass", "note": "\x00"},
                                        *f.submission()["answers"][1:]]), "answers.0.note"),
    "surrogate in a badge number": (lambda f: f.submission(inspectors=[f.inspector.badge_no, "\ud800"]),
                                    "inspectors.1"),
    "year 1": (lambda f: f.submission(started_at="0001-01-01T00:00:00+08:00"), "started_at"),
    "year 9999 with an extreme offset": (lambda f: f.submission(ended_at="9999-12-31T23:59:59-23:59"), "ended_at"),
    "year 1 with an extreme offset": (lambda f: f.submission(started_at="0001-01-01T00:00:00+23:59"), "started_at"),
    "offset of 15 hours": (lambda f: f.submission(started_at="2026-11-20T09:30:00+15:00"), "started_at"),
    "a 2**1000 measurement": (lambda f: f.submission(answers=[*f.submission()["answers"][:2],
                                                              {"item_code": "T03", "number": 2**1000}]),
                              "answers.2.number"),
}


@pytest.mark.parametrize("case", HOSTILE_SUBMISSIONS.values(), ids=HOSTILE_SUBMISSIONS.keys())
def test_hostile_submission_is_a_422_naming_the_field_and_writes_nothing(client, field, case):
    build, path = case
    before = stored_state()
    error = assert_error(post_raw(client, field, build(field)), 422, "validation_failed")
    assert path in error["fields"], error["fields"]
    assert stored_state() == before


@pytest.mark.parametrize("case", HOSTILE_SUBMISSIONS.values(), ids=HOSTILE_SUBMISSIONS.keys())
def test_hostile_batch_entry_is_refused_on_its_own(client, field, case):
    build, path = case
    response = post_raw(client, field, {"inspections": [build(field)]}, url=f"{URL}/batch")
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()["results"]
    assert result["status"] == 422 and path in result["error"]["fields"]


@pytest.mark.parametrize("query", ["after_id=9223372036854775808", "after_id=99999999999999999999999", "after_id=12177710308",
                                   "cursor=9223372036854775808", "after_id=-1"])
def test_bootstrap_refuses_integers_out_of_range(client, field, query):
    response = client.get(f"/api/v1/sync/bootstrap?{query}", headers=field.headers)
    error = assert_error(response, 422, "validation_failed")
    assert query.split("=")[0] in error["fields"]


def test_changes_refuses_a_cursor_out_of_range(client, field):
    response = client.get("/api/v1/sync/changes?cursor=18446744073709551616", headers=field.headers)
    assert "cursor" in assert_error(response, 422, "validation_failed")["fields"]


def test_lookup_refuses_control_characters_in_a_query(client, field):
    response = client.get("/api/v1/establishments?name=%E5%AE%BE%00%E9%A6%86", headers=field.headers)
    assert "name" in assert_error(response, 422, "validation_failed")["fields"]


@pytest.mark.parametrize("body", [{"finding_ids": [2**63], "summary": "无证经营"},
                                  {"finding_ids": [1], "summary": "无证\ud800经营"}], ids=["id", "surrogate"])
def test_penalty_case_request_refuses_hostile_values(client, field, body):
    response = post_raw(client, field, body, url="/api/v1/inspections/00000000-0000-4000-8000-000000000000/penalty-cases")
    assert_error(response, 422, "validation_failed")


def test_enrolment_code_with_a_surrogate_is_a_422(client):
    response = client.post("/api/v1/devices/enrol", data=json.dumps({"code": "ABC-\ud800-DEF"}),
                           content_type="application/json")
    assert "code" in assert_error(response, 422, "validation_failed")["fields"]


# --- the body as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize("body", ["[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000],
                         ids=["arrays", "objects"])
@pytest.mark.parametrize("url", [URL, f"{URL}/batch", "/api/v1/devices/enrol"])
def test_deeply_nested_json_is_a_400(client, field, body, url):
    response = client.post(url, data=body, content_type="application/json", headers=field.headers)
    error = assert_error(response, 400, "json_too_deep")
    assert "32" in error["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(client, field):
    response = post_raw(client, field, field.submission(notes="[{" * 200 + '\\"' + "}]" * 200))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_number_too_long_to_parse_is_malformed_json(client, field):
    body = json.dumps(field.submission()).replace('"establishment_id": ', '"establishment_id": ' + "9" * 5000 + ", \"x\": ", 1)
    assert_error(client.post(URL, data=body, content_type="application/json", headers=field.headers), 400,
                 "malformed_json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_json_under_another_media_type_is_a_415_naming_application_json(client, field, content_type):
    before = stored_state()
    headers = dict(field.headers)
    response = client.post(URL, data=json.dumps(field.submission()), headers=headers, content_type=content_type)
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]
    assert stored_state() == before


@pytest.mark.parametrize("url", [f"{URL}/batch", "/api/v1/devices/enrol",
                                 "/api/v1/inspections/00000000-0000-4000-8000-000000000000/penalty-cases"])
def test_every_json_endpoint_answers_415_for_text_plain(client, field, url):
    response = client.post(url, data="{}", content_type="text/plain", headers=field.headers)
    assert_error(response, 415, "unsupported_media_type")


def test_json_with_a_charset_parameter_is_accepted(client, field):
    response = client.post(URL, data=json.dumps(field.submission()), content_type="application/json; charset=utf-8",
                           headers=field.headers)
    assert response.status_code == 201


def test_attachment_upload_still_takes_an_image_type(client, field):
    data = png(5)
    response = client.put(f"/api/v1/attachments/{sha(data)}", data=data,
                          headers={**field.headers, "Content-Type": "image/png"})
    assert response.status_code == 201


def chunked(client, url, data: bytes, headers: dict, content_type: str):
    """A body without Content-Length, as gunicorn hands a chunked request to the app."""
    return client.open(url, method="POST" if url.startswith(URL) else "PUT", input_stream=io.BytesIO(data),
                       headers=headers, content_type=content_type, environ_overrides={"wsgi.input_terminated": True})


def test_chunked_body_over_the_json_limit_is_a_413_naming_the_limit(app, client, field):
    """The body is a complete JSON document up to the limit: cut there, it would have parsed."""
    limit = app.config["MAX_JSON_BYTES"]
    document = json.dumps(field.submission()).encode()
    data = document + b" " * (limit - len(document)) + b"trailing"
    before = stored_state()
    error = assert_error(chunked(client, URL, data, field.headers, "application/json"), 413, "too_large")
    assert str(limit) in error["message"]
    assert stored_state() == before


def test_chunked_body_within_the_limit_is_stored(client, field):
    data = json.dumps(field.submission()).encode()
    assert chunked(client, URL, data, field.headers, "application/json").status_code == 201


def test_chunked_attachment_over_its_limit_is_a_413_naming_the_limit(app, client, field):
    limit = app.config["MAX_ATTACHMENT_BYTES"]
    data = png(3) + b"\0" * limit
    error = assert_error(chunked(client, f"/api/v1/attachments/{sha(data)}", data, field.headers, "image/png"),
                         413, "too_large")
    assert str(limit) in error["message"]


# --- the class, not the cases ------------------------------------------------------------------


def request_schemas(app):
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        for method in ("get", "post", "put", "patch"):
            function = getattr(view_class, method, None)
            for parameter in getattr(function, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                yield parameter["schema"]


def leaf_fields(schema: Schema, path=""):
    for name, field in schema.fields.items():
        while isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Nested):
            yield from leaf_fields(field.schema, f"{path}{name}.")
        else:
            yield f"{path}{name}", field


def test_every_request_field_is_a_bounded_type(app):
    """A new request field of a plain String, Integer or DateTime would let hostile values
    through to the database: every one must be Text, BoundedInteger, FieldDateTime or BoundedDate."""
    unbounded = []
    schemas = list(request_schemas(app))
    assert len(schemas) >= 7
    for schema in schemas:
        for path, field in leaf_fields(schema()):
            if isinstance(field, fields.String) and not isinstance(field, Text):
                unbounded.append(f"{schema.__name__}.{path}")
            if isinstance(field, fields.Integer) and not isinstance(field, BoundedInteger):
                unbounded.append(f"{schema.__name__}.{path}")
            if isinstance(field, (fields.DateTime, fields.Date)) and not isinstance(field, (FieldDateTime, BoundedDate)):
                unbounded.append(f"{schema.__name__}.{path}")
    assert unbounded == []


def test_openapi_states_the_bounds_and_at_least_two_inspectors(client):
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    submission = schemas["InspectionSubmission"]["properties"]
    assert submission["inspectors"]["minItems"] == 2 and submission["inspectors"]["maxItems"] == 10
    assert (submission["establishment_id"]["minimum"], submission["establishment_id"]["maximum"]) == (1, 2**31 - 1)
    assert schemas["ManifestEntry"]["properties"]["size"]["maximum"] == 2**63 - 1


def test_a_single_inspector_is_refused_by_the_schema(client, field):
    body = field.submission(inspectors=[field.inspector.badge_no])
    error = assert_error(post_raw(client, field, body), 422, "validation_failed")
    assert "两名以上" in error["fields"]["inspectors"][0]
