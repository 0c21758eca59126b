"""The grade and its explanation over the terminal API, and the grade in the terminal sync."""
from datetime import date, datetime

from sqlalchemy import select

from supervision.audit.models import AuditHead
from supervision.credit.grading import approve, publish, run_grading
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories


def publish_2025():
    run = run_grading(db.session, factories.ACTOR, year=2025, now=datetime(2026, 1, 20)).run
    approve(db.session, factories.ACTOR, run.id, by="张主任")
    publish(db.session, factories.ACTOR, run.id, by="李所长")
    db.session.commit()
    return run


def test_grade_of_an_establishment(client, field):
    credit.record(field.establishment.subject_id, "penalty", code="fine", severity="general",
                  arose_on=date(2025, 4, 1), title="罚款")
    run = publish_2025()
    response = client.get(f"/api/v1/establishments/{field.establishment.id}/grade", headers=field.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["grade"], body["score"], body["year"], body["run_id"]) == ("C", 75, 2025, run.id)
    assert "contributions" not in body and body["policy_version"].startswith("grading/default/2020-01-01#")


def test_explanation_lists_records_with_points_and_rules(client, field):
    credit.record(field.establishment.subject_id, "penalty", code="fine", severity="general",
                  arose_on=date(2025, 4, 1), title="罚款")
    publish_2025()
    body = client.get(f"/api/v1/establishments/{field.establishment.id}/grade/explanation",
                      headers=field.headers).get_json()
    assert body["contributions"] == [{
        "record_id": body["contributions"][0]["record_id"], "kind": "penalty", "code": "fine", "severity": "general",
        "title": "罚款", "arose_on": "2025-04-01", "points": -15, "rule_key": "points.penalty.general",
        "rule_text": "行政处罚·一般：-15 分", "policy_version": body["policy_version"]}]


def test_no_published_grade_is_404_in_the_error_shape(client, field):
    response = client.get(f"/api/v1/establishments/{field.establishment.id}/grade", headers=field.headers)
    assert response.status_code == 404 and "没有已发布的信用评价" in response.get_json()["error"]["message"]


def test_unknown_year_parameter_is_refused(client, field):
    response = client.get(f"/api/v1/establishments/{field.establishment.id}/grade?years=2025", headers=field.headers)
    assert response.status_code == 422


def test_an_establishment_outside_the_inspectors_jurisdiction_is_forbidden(client, field):
    factories.jurisdiction(code="320104", name="秦淮区")
    elsewhere = factories.establishment(district="320104")
    publish_2025()
    response = client.get(f"/api/v1/establishments/{elsewhere.id}/grade", headers=field.headers)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_without_a_token_is_401(client, field):
    assert client.get(f"/api/v1/establishments/{field.establishment.id}/grade").status_code == 401


def test_bootstrap_carries_each_establishments_current_grade(client, field):
    publish_2025()
    body = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()
    assert body["grades"] == [{"establishment_id": field.establishment.id, "grade": "B", "score": 90, "year": 2025}]


def test_publishing_a_run_asks_terminals_to_bootstrap_again(client, field):
    cursor = db.session.execute(select(AuditHead.last_seq)).scalar_one()
    publish_2025()
    body = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert body["resync_required"] is True


def test_bootstrap_grade_costs_one_query_whatever_the_page(client, field, count_queries):
    publish_2025()
    client.get("/api/v1/sync/bootstrap", headers=field.headers)
    db.session.expire_all()
    with count_queries() as few:
        client.get("/api/v1/sync/bootstrap", headers=field.headers)
    for n in range(12):
        factories.establishment(grid=field.establishment.grid.code, name=f"南京市玄武区{n}号宾馆")
    db.session.commit()
    run = run_grading(db.session, factories.ACTOR, year=2025, jurisdiction="320102", now=datetime(2026, 1, 20)).run
    approve(db.session, factories.ACTOR, run.id, by="张主任")
    publish(db.session, factories.ACTOR, run.id, by="李所长")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as many:
        body = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()
    assert len(body["grades"]) == 13
    assert many() == few()


def test_openapi_documents_the_grade_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/api/v1/establishments/{establishment_id}/grade/explanation" in paths
    assert "/api/v1/establishments/{establishment_id}/grade" in paths
