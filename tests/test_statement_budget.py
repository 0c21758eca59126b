"""The whole life of an inspection on the terminal path costs a bounded number of SQL
statements: submission, every file, and the final state read (issue 14: at most 30)."""
from tests.terminal import upload

BUDGET = 30


def test_an_inspection_costs_at_most_30_statements_over_all_its_requests(client, field, count_queries, app,
                                                                          tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))  # files not held yet, as in the field
    body = field.submission()
    files = field.files_of(body)
    with count_queries() as statements:
        assert client.post("/api/v1/inspections", json=body, headers=field.headers).status_code == 201
        for data in files.values():
            assert upload(client, field, data).status_code == 201
        state = client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers).get_json()
    assert state["status"] == "complete"
    assert statements() <= BUDGET


def test_the_one_request_path_costs_fewer_statements_still(client, field, count_queries, app, tmp_path, monkeypatch):
    from tests.test_submit_with_files import post_with_files

    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    body = field.submission()
    with count_queries() as statements:
        assert post_with_files(client, field, body, field.files_of(body)).get_json()["status"] == "complete"
        client.get(f"/api/v1/inspections/{body['uuid']}", headers=field.headers)
    # 23: the stored plate page is dropped in the same transaction (one statement); the credit
    # area no longer looks its fact's source up before writing it (the unique key answers).
    assert statements() <= 23


def test_a_replayed_submission_is_answered_in_a_few_statements(client, field, count_queries):
    body = field.submission()
    first = client.post("/api/v1/inspections", json=body, headers=field.headers).get_json()
    with count_queries() as statements:
        again = client.post("/api/v1/inspections", json=body, headers=field.headers)
    assert again.status_code == 200 and again.get_json() == first
    assert statements() <= 5  # token, the key, the state in one query, what is missing
