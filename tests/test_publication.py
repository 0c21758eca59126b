"""Search, the published yearly summary tables, and the open-data feed."""
import csv
import io
import json
from datetime import date

from openpyxl import load_workbook

from supervision.publication import results
from tests import factories
from tests.public_support import penalty, publish_grades, token_of


def test_search_finds_by_part_of_the_name_and_links_the_plate(client, app):
    factories.jurisdiction()
    est = factories.establishment(name="南京市玄武区悦来宾馆有限公司")
    html = client.get("/search", query_string={"q": "悦来宾馆"}).get_data(as_text=True)
    assert est.credit_code in html and f"/P/{token_of(est)}" in html


def test_search_finds_by_credit_code(client, app):
    factories.jurisdiction()
    est = factories.establishment(name="某某浴室")
    assert "某某浴室" in client.get("/search", query_string={"q": est.credit_code.lower()}).get_data(as_text=True)


def test_search_is_paged(client, app):
    factories.jurisdiction()
    for n in range(25):
        factories.establishment(name=f"分页测试宾馆{n:02d}")
    first = client.get("/search", query_string={"q": "分页测试"}).get_data(as_text=True)
    second = client.get("/search", query_string={"q": "分页测试", "page": "2"}).get_data(as_text=True)
    assert first.count("分页测试宾馆") == 20 and "下一页" in first
    assert second.count("分页测试宾馆") == 5 and "下一页" not in second


def test_search_treats_wildcards_literally_and_escapes_the_query(client, app):
    factories.jurisdiction()
    factories.establishment(name="普通宾馆")
    html = client.get("/search", query_string={"q": "%%<script>"}).get_data(as_text=True)
    assert "普通宾馆" not in html and "<script>" not in html


def test_search_with_a_bad_page_number_is_not_an_error(client, app):
    assert client.get("/search", query_string={"q": "宾馆", "page": "x"}).status_code == 200


def test_a_published_summary_is_listed_and_downloads_as_csv_and_xlsx(client, runner, field):
    run_id = publish_grades(runner)
    assert f"/results/{run_id}.csv" in client.get("/results").get_data(as_text=True)
    text = client.get(f"/results/{run_id}.csv").get_data().decode("utf-8-sig")
    assert field.establishment.credit_code in text and "2025 年度信用分级评价结果汇总表" in text
    workbook = load_workbook(io.BytesIO(client.get(f"/results/{run_id}.xlsx").get_data()), read_only=True)
    assert workbook.sheetnames == ["汇总", "名单"]
    workbook.close()


def test_a_summary_is_not_public_before_its_publication_day(client, runner, field, monkeypatch):
    run_id = publish_grades(runner)
    monkeypatch.setattr("public_site.views.china_today", lambda: date(2026, 1, 24))
    assert f"/results/{run_id}.csv" not in client.get("/results").get_data(as_text=True)
    assert client.get(f"/results/{run_id}.csv").status_code == 404
    monkeypatch.setattr("public_site.views.china_today", lambda: date(2026, 1, 25))
    assert client.get(f"/results/{run_id}.csv").status_code == 200


def test_an_unpublished_run_cannot_be_downloaded(client, runner, field):
    result = runner.invoke(args=["grade", "run", "--year", "2025", "--json"])
    run_id = json.loads(result.output.strip().splitlines()[-1])["run_id"]
    assert client.get(f"/results/{run_id}.xlsx").status_code == 404


def test_open_data_grades_as_json_and_csv(client, runner, field):
    publish_grades(runner)
    items = client.get("/open-data/grades.json").get_json()["items"]
    assert {i["credit_code"] for i in items} >= {field.establishment.credit_code}
    rows = list(csv.DictReader(io.StringIO(client.get("/open-data/grades.csv").get_data().decode("utf-8-sig"))))
    assert rows[0].keys() == set(results.GRADE_FIELDS) and rows[0]["year"] == "2025"


def test_open_data_penalties_lists_public_ones_only(client, runner, field):
    from tests.public_support import change_status

    shown, repaired = penalty(client, runner, field), penalty(client, runner, field)
    change_status(repaired, "repaired")
    numbers = [i["decision_no"] for i in client.get("/open-data/penalties.json").get_json()["items"]]
    assert numbers == [shown.decision_no]


def test_open_data_answers_304_to_a_matching_etag_or_date(client, runner, field):
    publish_grades(runner)
    first = client.get("/open-data/grades.json")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert client.get("/open-data/grades.json", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get("/open-data/grades.json",
                      headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304


def test_open_data_changes_its_etag_when_a_penalty_is_added(client, runner, field):
    first = client.get("/open-data/penalties.json")
    penalty(client, runner, field)
    second = client.get("/open-data/penalties.json", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and len(second.get_json()["items"]) == 1
