def test_healthz_reports_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "reachable"


def test_healthz_reports_unreachable_database_as_503(databases, tmp_path):
    from supervision.app import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path}/missing/dir/x.db", tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
