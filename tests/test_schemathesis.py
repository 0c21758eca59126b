"""schemathesis over the OpenAPI document: every operation, with a device token, through the
app via WSGI. A bounded, seeded run in the suite; a longer one is a command in docs/testing.md."""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
# The tus PATCH takes a raw `application/offset+octet-stream` body whose meaning depends on
# server state (the upload's offset), which schemathesis cannot serialise or satisfy; it is
# covered by tests/test_video_uploads.py and tests/test_tus_protocol.py instead. The other tus
# operations (OPTIONS, POST, HEAD, DELETE) stay in the run.
EXCLUDED = {"PATCH /api/v1/uploads/{upload_id}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_server_errors_and_responses_match_the_document(app, field):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in EXCLUDED:
            continue

        @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE)))
        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(headers=field.headers, checks=CHECKS)

        try:
            exercise()
        except Exception as error:  # keep going: report every operation that fails
            failures[operation.label] = error
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
