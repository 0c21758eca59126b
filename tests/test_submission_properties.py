"""Property: whatever hostile value one field of a submission holds, POST /api/v1/inspections
answers without a 5xx, and a refused submission writes nothing (rows and audit entries)."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_submissions import stored_state

NASTY_CHARACTERS = ["\ud800", "\udfff", "\ud83d", "\x00", "\x1b", "\x7f", "\x85", "\n", "\r", "\t", "\u2028",
                    "\ufeff", "\ufffe", "\uffff", "'", '"', "\\", "<", "；", "𠀀"]
hostile_text = st.text(st.one_of(st.characters(), st.sampled_from(NASTY_CHARACTERS)), max_size=40)
hostile_integers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30]),
)
hostile_numbers = st.one_of(hostile_integers, st.floats(allow_nan=True, allow_infinity=True),
                            st.sampled_from([1e308, -1e308, 5e-324]))


@st.composite
def hostile_moments(draw):
    year = draw(st.sampled_from([1, 999, 1999, 2000, 2026, 2100, 2101, 9999]) | st.integers(1, 9999))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    sign = draw(st.sampled_from("+-"))
    hours, minutes = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    return f"{year:04d}-{month:02d}-{day:02d}T{draw(st.integers(0, 23)):02d}:00:00{sign}{hours:02d}:{minutes:02d}"


wrong_types = st.one_of(st.none(), st.booleans(), st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))

# (where in the submission, what may be put there)
FIELDS = {
    "establishment_id": hostile_integers | wrong_types,
    "checklist_version_id": hostile_integers | wrong_types,
    "task_id": hostile_integers | wrong_types,
    "uuid": hostile_text | wrong_types,
    "replaces": hostile_text,
    "notes": hostile_text | wrong_types,
    "started_at": hostile_moments() | hostile_text | wrong_types,
    "ended_at": hostile_moments() | hostile_text,
    "inspectors.1": hostile_text | hostile_integers,
    "gps.lat": hostile_numbers | wrong_types,
    "gps.accuracy_m": hostile_numbers,
    "signature.signer_name": hostile_text | wrong_types,
    "signature.signer_role": hostile_text,
    "answers.0.note": hostile_text,
    "answers.0.item_code": hostile_text | hostile_integers,
    "answers.1.result": hostile_text,
    "answers.2.number": hostile_numbers | wrong_types,
    "attachments.0.size": hostile_integers | wrong_types,
    "attachments.0.media_type": hostile_text,
    "attachments.1.sha256": hostile_text,
}


def put(body: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


@given(data=st.data())
@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_hostile_field_never_a_5xx_and_a_refusal_writes_nothing(client, field, data):
    path = data.draw(st.sampled_from(sorted(FIELDS)), label="field")
    value = data.draw(FIELDS[path], label="value")
    body = put(field.submission(), path, value)
    before = stored_state()
    response = client.post("/api/v1/inspections", data=json.dumps(body), content_type="application/json",
                           headers=field.headers)
    assert response.status_code < 500, (path, value, response.get_data(as_text=True))
    if response.status_code >= 400:
        assert set(response.get_json()) == {"error"}
        assert stored_state() == before, (path, value)
