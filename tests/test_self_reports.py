"""Self-reported information (自愿申报, issue 19): submitted from the portal page or the API
with evidence and the truthfulness pledge, verified or rejected by a supervisor on the command
line; only a verified report becomes credit information and counts in a grading run."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.credit.grading.models import Grade
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.self_reports.models import SelfReport, SelfReportEvidence
from tests import factories
from tests.public_support import csrf_token
from tests.test_portal_accounts import ready

PDF = b"%PDF-1.4\n% certificate scan\n"
FORM = {"kind": "honour", "title": "市级卫生先进单位", "issuer": "南京市爱国卫生运动委员会",
        "occurred_on": "2026-06-01", "description": "2026 年度评选", "pledged_by": "王建国", "pledge": "yes"}


@pytest.fixture
def est(app):
    factories.jurisdiction()
    return factories.establishment()


def submit(client, establishment_id: int, *, files=(("证书.pdf", PDF),), **changes):
    url = f"/portal/establishments/{establishment_id}/self-reports/new"
    data = {"csrf_token": csrf_token(client.get(url).get_data(as_text=True)), **FORM, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    data["evidence"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(url, data=data, content_type="multipart/form-data")


def cli(runner, *args):
    return runner.invoke(args=[str(a) for a in args])


def test_a_report_with_evidence_and_pledge_waits_for_verification(client, runner, est):
    ready(client, runner, est)
    response = submit(client, est.id)
    assert response.status_code == 302, response.get_data(as_text=True)
    report = db.session.execute(select(SelfReport)).scalar_one()
    assert (report.status, report.pledged_by, report.kind) == ("pending", "王建国", "honour")
    assert "真实、准确、完整" in report.pledge_text
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "待核实" in page and "证书.pdf" in page and "核实前不计入信用评价" in page
    assert db.session.execute(select(CreditRecord)).first() is None


@pytest.mark.parametrize("changes, field_message", [
    ({"pledge": None}, "须勾选如实申报承诺"),
    ({"title": " "}, "请填写名称"),
    ({"occurred_on": "2099-01-01"}, "日期不能晚于今天"),
    ({"occurred_on": "去年六月"}, "日期格式应为 YYYY-MM-DD"),
    ({"kind": "lottery"}, "应为：荣誉表彰"),
    ({"pledged_by": ""}, "请填写承诺人姓名"),
])
def test_a_bad_report_is_refused_with_its_field_and_nothing_is_stored(client, runner, est, changes, field_message):
    ready(client, runner, est)
    response = submit(client, est.id, **changes)
    assert response.status_code == 400 and field_message in response.get_data(as_text=True)
    assert db.session.execute(select(SelfReport)).first() is None
    assert db.session.execute(select(SelfReportEvidence)).first() is None


def test_a_report_without_evidence_is_refused(client, runner, est):
    ready(client, runner, est)
    response = submit(client, est.id, files=())
    assert response.status_code == 400 and "请附上证明材料" in response.get_data(as_text=True)


def test_evidence_that_is_not_pdf_jpeg_or_png_is_refused(client, runner, est):
    ready(client, runner, est)
    response = submit(client, est.id, files=(("证书.pdf", b"MZ\x90\x00"),))
    assert response.status_code == 400 and "不是 PDF、JPEG 或 PNG" in response.get_data(as_text=True)
    assert db.session.execute(select(SelfReport)).first() is None


def test_a_form_without_csrf_token_is_refused(client, runner, est):
    ready(client, runner, est)
    response = client.post(f"/portal/establishments/{est.id}/self-reports/new", data=FORM)
    assert response.status_code == 400 and db.session.execute(select(SelfReport)).first() is None


def test_only_a_verified_report_counts_in_grading(client, runner, app):
    from supervision.credit.grading import run_grading

    factories.jurisdiction()
    verified = factories.establishment(name="悦来宾馆")
    waiting = factories.establishment(name="别家宾馆", legal_representative="李四")
    for establishment in (verified, waiting):
        ready(client, runner, establishment)
        assert submit(client, establishment.id, pledged_by=establishment.legal_representative).status_code == 302
        client.post("/portal/logout", data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True))})
    first = db.session.execute(select(SelfReport).where(SelfReport.establishment_id == verified.id)).scalar_one()
    out = cli(runner, "self-reports", "verify", first.id, "--by", "李科员")
    assert out.exit_code == 0, out.output
    record = db.session.execute(select(CreditRecord)).scalar_one()
    assert (record.kind, record.code, record.source_type, record.subject_id) == (
        "positive", "voluntary_disclosure", "self_report", verified.subject_id)
    run = run_grading(db.session, factories.ACTOR, year=2026, now=datetime(2027, 1, 20)).run
    db.session.commit()
    scores = dict(db.session.execute(select(Grade.subject_id, Grade.score).where(Grade.run_id == run.id)).all())
    assert scores[verified.subject_id] == scores[waiting.subject_id] + 3


def test_a_verified_report_shows_in_my_records(client, runner, est):
    ready(client, runner, est)
    submit(client, est.id)
    report = db.session.execute(select(SelfReport)).scalar_one()
    cli(runner, "self-reports", "verify", report.id, "--by", "李科员", "--code", "honour")
    records = client.get(f"/portal/establishments/{est.id}/records").get_data(as_text=True)
    assert "市级卫生先进单位" in records
    assert "已核实" in client.get(f"/portal/self-reports/{report.id}").get_data(as_text=True)


def test_a_rejected_report_records_nothing_and_says_why(client, runner, est):
    ready(client, runner, est)
    submit(client, est.id)
    report = db.session.execute(select(SelfReport)).scalar_one()
    assert cli(runner, "self-reports", "reject", report.id, "--by", "李科员", "--reason", "证书与单位名称不符").exit_code == 0
    assert db.session.execute(select(CreditRecord)).first() is None
    page = client.get(f"/portal/self-reports/{report.id}").get_data(as_text=True)
    assert "未通过核实" in page and "证书与单位名称不符" in page


def test_a_decided_report_cannot_be_decided_again(client, runner, est):
    ready(client, runner, est)
    submit(client, est.id)
    report = db.session.execute(select(SelfReport)).scalar_one()
    cli(runner, "self-reports", "verify", report.id, "--by", "李科员")
    again = cli(runner, "self-reports", "reject", report.id, "--by", "李科员", "--reason", "x")
    assert again.exit_code == 1 and "已处理" in again.output
    assert len(db.session.execute(select(CreditRecord)).all()) == 1


def test_the_supervisor_lists_shows_and_copies_the_evidence(client, runner, est, tmp_path):
    ready(client, runner, est)
    submit(client, est.id)
    report = db.session.execute(select(SelfReport)).scalar_one()
    assert "市级卫生先进单位" in cli(runner, "self-reports", "list").output
    shown = cli(runner, "self-reports", "show", report.id, "--out", tmp_path)
    assert shown.exit_code == 0 and "王建国" in shown.output
    [copy] = list(tmp_path.iterdir())
    assert copy.read_bytes() == PDF


def test_evidence_is_served_to_its_owner_only_and_other_attempts_are_audited(client, runner, est):
    ready(client, runner, est)
    submit(client, est.id)
    report = db.session.execute(select(SelfReport)).scalar_one()
    evidence = db.session.execute(select(SelfReportEvidence)).scalar_one()
    url = f"/portal/self-reports/{report.id}/evidence/{evidence.id}"
    own = client.get(url)
    assert own.status_code == 200 and own.data == PDF
    own.close()
    client.post("/portal/logout", data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True))})
    ready(client, runner, factories.establishment(name="别家宾馆", legal_representative="李四"))
    assert client.get(url).status_code == 403
    assert client.get(f"/portal/self-reports/{report.id}").status_code == 403
    assert client.get(f"/portal/establishments/{est.id}/self-reports").status_code == 403
    token = csrf_token(client.get("/portal/").get_data(as_text=True))
    posted = client.post(f"/portal/establishments/{est.id}/self-reports/new", content_type="multipart/form-data",
                         data={"csrf_token": token, **FORM, "evidence": [(io.BytesIO(PDF), "证书.pdf")]})
    assert posted.status_code == 403
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars().all()
    assert len(refused) == 4 and len(db.session.execute(select(SelfReport)).all()) == 1


# --- the same through the JSON API ---------------------------------------------------------------

def test_the_api_takes_a_report_with_its_files_and_refuses_a_missing_pledge(client, runner, est):
    from tests.test_portal_api import API
    from tests.test_portal_api import ready as ready_api

    headers = ready_api(client, runner, est)
    url = f"{API}/establishments/{est.id}/self-reports"
    fields = {**FORM, "pledge": "true"}
    refused = client.post(url, headers=headers, content_type="multipart/form-data",
                          data={**fields, "pledge": "false", "evidence": [(io.BytesIO(PDF), "证书.pdf")]})
    assert refused.status_code == 422 and "pledge" in refused.get_json()["error"]["fields"]
    created = client.post(url, headers=headers, content_type="multipart/form-data",
                          data={**fields, "evidence": [(io.BytesIO(PDF), "证书.pdf")]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["credit_record_id"] is None
    [held] = body["evidence"]
    download = client.get(f"{API}/self-reports/{body['id']}/evidence/{held['id']}", headers=headers)
    assert download.status_code == 200 and download.data == PDF
    download.close()
    listed = client.get(url, headers=headers).get_json()["self_reports"]
    assert [r["id"] for r in listed] == [body["id"]]
    bad_date = client.post(url, headers=headers, content_type="multipart/form-data",
                           data={**fields, "occurred_on": "2026-13-01", "evidence": [(io.BytesIO(PDF), "证书.pdf")]})
    assert bad_date.status_code == 422 and "occurred_on" in bad_date.get_json()["error"]["fields"]
    assert len(db.session.execute(select(SelfReport)).all()) == 1
    assert date.fromisoformat(body["occurred_on"]) == date(2026, 6, 1)
