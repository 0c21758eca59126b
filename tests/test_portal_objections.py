"""Objections from the establishment portal (issue 19): filed with evidence, shown with their
working-day deadline, marking the public plate page 复核中; someone else's records refused."""
from __future__ import annotations

from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.credit.lifecycle_models import Objection, ObjectionEvidence
from supervision.extensions import db
from tests import factories
from tests.public_support import csrf_token, penalty, token_of
from tests.test_portal_accounts import ready

PDF = b"%PDF-1.4\n% evidence\n"


def file_objection(client, record_id: int, reason="检查时已整改，附照片", files=(("说明.pdf", PDF),)):
    import io

    token = csrf_token(client.get(f"/portal/records/{record_id}/objection").get_data(as_text=True))
    data = {"csrf_token": token, "reason": reason,
            "evidence": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/portal/records/{record_id}/objection", data=data, content_type="multipart/form-data")


def test_an_objection_with_evidence_shows_its_deadline_and_marks_the_plate_page(client, runner, field):
    p = penalty(client, runner, field)
    ready(client, runner, field.establishment)
    response = file_objection(client, p.credit_record_id)
    assert response.status_code == 302, response.get_data(as_text=True)
    objection = db.session.execute(select(Objection)).scalar_one()
    assert objection.raised_for == "self" and objection.establishment_id == field.establishment.id
    evidence = db.session.execute(select(ObjectionEvidence)).scalar_one()
    assert evidence.filename == "说明.pdf" and evidence.media_type == "application/pdf"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "答复期限" in page and "处理中" in page and "说明.pdf" in page
    plate = client.get(f"/P/{token_of(field.establishment)}").get_data(as_text=True)
    assert "复核中" in plate


def test_an_objection_without_reason_is_refused_and_nothing_changes(client, runner, field):
    p = penalty(client, runner, field)
    ready(client, runner, field.establishment)
    response = file_objection(client, p.credit_record_id, reason=" ")
    assert response.status_code == 400 and "请填写异议理由" in response.get_data(as_text=True)
    assert db.session.execute(select(Objection)).first() is None


def test_evidence_that_is_not_pdf_jpeg_or_png_is_refused(client, runner, field):
    p = penalty(client, runner, field)
    ready(client, runner, field.establishment)
    response = file_objection(client, p.credit_record_id, files=(("x.exe", b"MZ\x90\x00"),))
    assert response.status_code == 400 and "不是 PDF、JPEG 或 PNG" in response.get_data(as_text=True)
    assert db.session.execute(select(Objection)).first() is None


def test_objecting_to_another_establishments_record_is_refused_and_audited(client, runner, field):
    p = penalty(client, runner, field)
    mine = factories.establishment(name="我的宾馆")
    ready(client, runner, mine)
    assert client.get(f"/portal/records/{p.credit_record_id}/objection").status_code == 403
    response = client.post(f"/portal/records/{p.credit_record_id}/objection",
                           data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True)),
                                 "reason": "不是我"})
    assert response.status_code == 403
    assert db.session.execute(select(Objection)).first() is None
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars().all()
    assert len(refused) == 2 and {e.entity_id for e in refused} == {str(p.credit_record_id)}


def test_reading_another_establishments_objection_is_refused_and_audited(client, runner, field):
    p = penalty(client, runner, field)
    ready(client, runner, field.establishment)
    file_objection(client, p.credit_record_id)
    objection = db.session.execute(select(Objection)).scalar_one()
    client.post("/portal/logout", data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True))})
    ready(client, runner, factories.establishment(name="别家宾馆"))
    assert client.get(f"/portal/objections/{objection.id}").status_code == 403
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalar_one()


def test_evidence_is_served_to_its_owner_only(client, runner, field):
    p = penalty(client, runner, field)
    ready(client, runner, field.establishment)
    file_objection(client, p.credit_record_id)
    objection = db.session.execute(select(Objection)).scalar_one()
    evidence = db.session.execute(select(ObjectionEvidence)).scalar_one()
    url = f"/portal/objections/{objection.id}/evidence/{evidence.id}"
    own = client.get(url)
    try:
        assert own.status_code == 200 and own.data == PDF and own.mimetype == "application/pdf"
        assert "attachment" in own.headers["Content-Disposition"]
    finally:
        own.close()  # a streamed file
    client.post("/portal/logout", data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True))})
    ready(client, runner, factories.establishment(name="别家宾馆"))
    assert client.get(url).status_code == 403
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalar_one()
