"""The OpenAPI document matches the routes, and its browsable docs load nothing from elsewhere."""
from __future__ import annotations

import html
import json
import re

import pytest

from field_api.auth import device_required
from field_api.portal_auth import account_required

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PATH_ITEM_KEYS = HTTP_METHODS | {"summary", "description", "servers", "parameters", "$ref"}
WRITE_METHODS = {"post", "put", "patch"}
# Write operations that take no body at all: a token rotation is asked for by the token alone.
BODILESS_WRITES = {("/api/v1/devices/token/rotate", "post"),
                   # tus creation: the upload is described by headers (Upload-Length, Upload-Metadata)
                   ("/api/v1/uploads", "post")}
# tus 1.0 answers success without a body (the state is in headers): field_api/tus.py.
TUS_OPERATIONS = {("/api/v1/uploads", "options"), ("/api/v1/uploads", "post"), ("/api/v1/uploads/{upload_id}", "head"),
                  ("/api/v1/uploads/{upload_id}", "patch"), ("/api/v1/uploads/{upload_id}", "delete")}


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def resolve(spec: dict, node: dict) -> dict:
    """Follow a local $ref ("#/components/...") to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def openapi_path(rule: str) -> str:
    """/api/v1/inspections/<uuid:uuid> -> /api/v1/inspections/{uuid}"""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]


def all_refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def structural_problems(spec: dict) -> list[str]:
    """What breaks the OpenAPI 3.0 structure (the part a client generator relies on)."""
    problems = []
    if not re.fullmatch(r"3\.0\.\d+", str(spec.get("openapi"))):
        problems.append(f"openapi version {spec.get('openapi')!r}")
    info = spec.get("info") or {}
    if not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        problems.append("info.title and info.version must be strings")
    if not isinstance(spec.get("paths"), dict):
        return problems + ["paths missing"]
    for ref in set(all_refs(spec)):
        try:
            target = resolve(spec, {"$ref": ref})
        except (KeyError, AssertionError, TypeError):
            problems.append(f"dangling $ref {ref}")
        else:
            if not isinstance(target, dict):
                problems.append(f"$ref {ref} names no object")
    for name in (spec.get("components") or {}).get("schemas", {}):
        if not re.fullmatch(r"[A-Za-z0-9.\-_]+", name):
            problems.append(f"component name {name!r}")
    schemes = (spec.get("components") or {}).get("securitySchemes", {})
    operation_ids = []
    for path, item in spec["paths"].items():
        if not path.startswith("/"):
            problems.append(f"path {path!r} does not start with /")
        problems += [f"{path}: unknown key {key!r}" for key in set(item) - PATH_ITEM_KEYS]
        templated = set(re.findall(r"{([^{}]+)}", path))
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            parameters = [resolve(spec, p) for p in item.get("parameters", []) + operation.get("parameters", [])]
            for p in parameters:
                if p.get("in") not in {"query", "header", "path", "cookie"} or not p.get("name"):
                    problems.append(f"{where}: bad parameter {p}")
                if "schema" not in p and "content" not in p:
                    problems.append(f"{where}: parameter {p.get('name')} has no schema")
            declared = {p["name"] for p in parameters if p.get("in") == "path"}
            if declared != templated:
                problems.append(f"{where}: path parameters {sorted(declared)} != template {sorted(templated)}")
            if any(p.get("in") == "path" and p.get("required") is not True for p in parameters):
                problems.append(f"{where}: a path parameter is not required")
            responses = operation.get("responses")
            if not responses:
                problems.append(f"{where}: no responses")
            for status, response in (responses or {}).items():
                if status != "default" and not re.fullmatch(r"[1-5](\d\d|XX)", str(status)):
                    problems.append(f"{where}: response key {status!r}")
                if not isinstance(resolve(spec, response).get("description"), str):
                    problems.append(f"{where} {status}: response without description")
            body = operation.get("requestBody")
            if body is not None and not resolve(spec, body).get("content"):
                problems.append(f"{where}: requestBody without content")
            for requirement in operation.get("security", spec.get("security", [])):
                problems += [f"{where}: unknown security scheme {s}" for s in set(requirement) - set(schemes)]
            if "operationId" in operation:
                operation_ids.append(operation["operationId"])
    if len(operation_ids) != len(set(operation_ids)):
        problems.append("duplicate operationId")
    return problems


def test_openapi_document_is_valid_openapi_3(spec):
    try:
        from openapi_spec_validator import validate  # not a dependency; used when present
    except ImportError:
        pass
    else:
        validate(spec)
    assert structural_problems(spec) == []


def test_every_api_route_is_documented_with_its_methods(app, spec):
    rules = api_rules(app)
    assert rules
    for rule in rules:
        path = openapi_path(rule.rule)
        assert path in spec["paths"], f"{rule.rule} is not documented"
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        assert methods <= set(spec["paths"][path]), f"{rule.rule}: {methods - set(spec['paths'][path])} undocumented"


def test_every_documented_path_is_a_route(app, spec):
    routes = {openapi_path(r.rule) for r in app.url_map.iter_rules()}
    assert set(spec["paths"]) <= routes


def test_every_write_operation_documents_its_request_body(spec):
    without_body = set()
    for path, method, operation in operations(spec):
        if method not in WRITE_METHODS:
            assert "requestBody" not in operation, f"{method.upper()} {path}"
        elif "requestBody" in operation:
            content = resolve(spec, operation["requestBody"])["content"]
            assert all("schema" in media for media in content.values()), f"{method.upper()} {path}"
        else:
            without_body.add((path, method))
    assert without_body == BODILESS_WRITES


def test_json_request_bodies_reference_a_schema(spec):
    for path, method, operation in operations(spec):
        body = operation.get("requestBody")
        if body and "application/json" in resolve(spec, body)["content"]:
            schema = resolve(spec, resolve(spec, body)["content"]["application/json"]["schema"])
            assert schema.get("properties"), f"{method.upper()} {path}"


def test_every_operation_documents_a_2xx_response_with_a_schema(spec):
    for path, method, operation in operations(spec):
        if (path, method) in TUS_OPERATIONS:
            assert any(str(status).startswith("2") for status in operation["responses"])
            continue
        documented = [
            status for status, response in operation["responses"].items()
            if str(status).startswith("2")
            and any("schema" in media for media in resolve(spec, response).get("content", {}).values())
        ]
        assert documented, f"{method.upper()} {path} documents no 2xx response with a schema"


def test_error_responses_document_the_one_error_shape(spec):
    error = resolve(spec, {"$ref": "#/components/schemas/Error"})
    body = resolve(spec, error["properties"]["error"])
    assert set(body["properties"]) == {"code", "message", "fields"}
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if (path, status) == ("/healthz", "503"):
                continue  # a degraded health report is the health shape, on purpose
            if str(status).startswith(("4", "5")) or status == "default":
                schema = resolve(spec, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method.upper()} {path} {status}"


def test_device_token_security_scheme_is_defined(spec):
    assert spec["components"]["securitySchemes"]["deviceToken"] == {
        "type": "http", "scheme": "bearer", "description": "token from /api/v1/devices/enrol"}


def test_operations_behind_a_device_token_declare_it(app, spec):
    checked = 0
    for rule in api_rules(app):
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        needs_token = device_required in getattr(view_class, "decorators", [])
        for method in {m.lower() for m in rule.methods} - {"head", "options"}:
            security = spec["paths"][openapi_path(rule.rule)][method].get("security")
            if needs_token:
                assert security == [{"deviceToken": []}], f"{method.upper()} {rule.rule}"
                checked += 1
            elif rule.rule.startswith("/api/v1/credit-check/"):  # departments' API keys
                assert security == [{"departmentApiKey": []}], f"{method.upper()} {rule.rule}"
            elif account_required in getattr(view_class, "decorators", []):  # establishments' own tokens
                assert security == [{"portalToken": []}], f"{method.upper()} {rule.rule}"
            else:
                assert not security, f"{method.upper()} {rule.rule}"
    assert checked


def docs_page(client) -> str:
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    return response.get_data(as_text=True)


def asset_urls(page: str) -> list[str]:
    return re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", page)


def test_api_docs_load_scripts_and_styles_from_local_assets_only(client):
    page = docs_page(client)
    urls = asset_urls(page)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    assert all(u.startswith(("/api/docs/assets/", "/api/docs/static/")) for u in urls), urls
    assert not re.search(r"""["'(](?:https?:)?//""", page)


def test_api_docs_assets_answer(client):
    for url in asset_urls(docs_page(client)):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype in {"text/javascript", "application/javascript", "text/css"}, url
        assert len(response.get_data()) > 200, url
        response.close()


def test_api_docs_assets_refuse_paths_outside_the_bundle(client):
    assert client.get("/api/docs/assets/../../../etc/passwd").status_code == 404
    assert client.get("/api/docs/assets/%2e%2e/%2e%2e/pyproject.toml").status_code == 404


def test_api_docs_do_not_call_the_online_swagger_validator(client):
    match = re.search(r"data-config='([^']*)'", docs_page(client))
    assert match
    config = json.loads(html.unescape(match.group(1)))
    assert "validatorUrl" in config and config["validatorUrl"] in (None, "none")
