"""GET /api/v1/establishments/{id}/credit-records: records with provenance and publicity, for
the device's own jurisdiction only."""
from datetime import date

from supervision.credit import records
from supervision.extensions import db
from tests import factories
from tests.credit_support import ACTOR, fact


def url(est, **query):
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/establishments/{est.id}/credit-records" + (f"?{suffix}" if suffix else "")


def add_penalty(est, severity="general", arose_on=date(2026, 3, 15)):
    row = records.record(db.session, ACTOR, fact(est, kind="penalty", code="fine", severity=severity,
                                                 arose_on=arose_on, source_type="penalty", source_ref=f"p{severity}",
                                                 channel="system", title="罚款 2000 元"))
    db.session.commit()
    return row


def test_records_come_with_provenance_and_publicity(client, field):
    add_penalty(field.establishment)
    response = client.get(url(field.establishment, on="2026-06-01"), headers=field.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["establishment_id"] == field.establishment.id and body["on"] == "2026-06-01"
    [record] = body["records"]
    assert (record["kind"], record["code"], record["severity"], record["status"]) == ("penalty", "fine", "general",
                                                                                      "effective")
    assert record["provenance"]["producing_unit"] == "320102" and record["provenance"]["channel"] == "system"
    assert record["publicity"]["public"] is True and record["publicity"]["public_until"] == "2027-03-14"
    assert record["penalty"] is None


def test_publicity_follows_the_day_asked(client, field):
    add_penalty(field.establishment)
    body = client.get(url(field.establishment, on="2027-03-15"), headers=field.headers).get_json()
    assert body["records"][0]["publicity"]["public"] is False


def test_an_establishment_of_another_jurisdiction_does_not_exist_for_the_device(client, field):
    elsewhere = factories.jurisdiction(code="320105", name="建邺区")
    other = factories.establishment(district="320105", name="南京市建邺区某宾馆")
    db.session.commit()
    assert elsewhere.id != field.establishment.jurisdiction_id
    response = client.get(url(other), headers=field.headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_an_unknown_query_parameter_is_refused(client, field):
    assert client.get(url(field.establishment, day="2026-01-01"), headers=field.headers).status_code == 422


def test_without_a_token_it_is_refused(client, field):
    assert client.get(url(field.establishment)).status_code == 401


def test_it_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/establishments/{establishment_id}/credit-records"]["get"]
    assert "200" in operation["responses"] and "404" in operation["responses"]


def test_a_decided_penalty_comes_with_its_decision(client, runner, field):
    from tests.test_penalties import decide, open_case

    assert decide(runner, open_case(client, field)).exit_code == 0
    records = client.get(url(field.establishment), headers=field.headers).get_json()["records"]
    [penalty] = [r for r in records if r["kind"] == "penalty"]
    assert penalty["penalty"]["decision_no"] == "玄卫罚〔2026〕1号" and penalty["penalty"]["amount_fen"] == 500000
    assert penalty["publicity"]["public"] is True


def test_statement_count_does_not_grow_with_records(client, field, count_queries):
    def penalties(n, start):
        for i in range(n):
            records.record(db.session, ACTOR, fact(field.establishment, kind="penalty", code="fine", severity="general",
                                                   arose_on=date(2026, 3, 1 + i), source_type="penalty",
                                                   source_ref=f"q{start + i}", channel="system"))
        db.session.commit()

    penalties(1, 0)
    with count_queries() as few:
        assert client.get(url(field.establishment), headers=field.headers).status_code == 200
    penalties(20, 100)
    with count_queries() as many:
        assert len(client.get(url(field.establishment), headers=field.headers).get_json()["records"]) == 21
    assert many() == few()
