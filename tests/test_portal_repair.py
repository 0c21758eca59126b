"""Credit repair and the credit report from the establishment portal (issue 19)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.credit import repair
from supervision.credit.calendar import china_today
from supervision.credit.lifecycle_models import RepairApplication
from supervision.extensions import db
from tests import factories
from tests.lifecycle_support import penalty
from tests.public_support import csrf_token, token_of
from tests.test_portal_accounts import ready

EVIDENCE = {"fulfilment": "缴款凭证 2026-001", "commitment": "信用修复承诺书", "training": "培训证明 第 12 期"}


@pytest.fixture
def fined(field):
    record, p = penalty(field.establishment, decided_on=date(2026, 1, 10), fulfilled_on=date(2026, 2, 1))
    db.session.commit()
    return record, p


def apply(client, record_id: int, evidence=EVIDENCE):
    token = csrf_token(client.get(f"/portal/records/{record_id}/repair").get_data(as_text=True))
    return client.post(f"/portal/records/{record_id}/repair", data={"csrf_token": token, **evidence})


def approve(repair_id: int) -> None:
    repair.approve(db.session, factories.ACTOR, repair_id, by="李所长", on=china_today())
    db.session.commit()


def test_an_eligible_record_asks_for_the_evidence_the_rules_require(client, runner, field, fined):
    record, _ = fined
    ready(client, runner, field.establishment)
    page = client.get(f"/portal/records/{record.id}/repair").get_data(as_text=True)
    assert "可以申请" in page and "履行完毕证明" in page and "信用修复承诺书" in page and "信用修复培训证明" in page


def test_an_ineligible_record_says_why(client, runner, field):
    record, _ = penalty(field.establishment, decided_on=date(2026, 1, 10))  # not fulfilled
    db.session.commit()
    ready(client, runner, field.establishment)
    page = client.get(f"/portal/records/{record.id}/repair").get_data(as_text=True)
    assert "目前不能申请" in page and "尚未履行完毕" in page


def test_apply_then_approved_gives_the_notice_pdf_and_leaves_the_plate_page(client, runner, field, fined):
    record, p = fined
    ready(client, runner, field.establishment)
    response = apply(client, record.id)
    assert response.status_code == 302, response.get_data(as_text=True)
    application = db.session.execute(select(RepairApplication)).scalar_one()
    progress = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "待审核" in progress and "notice.pdf" not in progress
    assert client.get(f"/portal/repairs/{application.id}/notice.pdf").status_code == 400  # none before approval
    assert p.decision_no in client.get(f"/P/{token_of(field.establishment)}").get_data(as_text=True)
    approve(application.id)
    progress = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "审核通过" in progress and "XYXF-" in progress
    pdf = client.get(f"/portal/repairs/{application.id}/notice.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert p.decision_no not in client.get(f"/P/{token_of(field.establishment)}").get_data(as_text=True)


def test_an_application_missing_evidence_is_refused(client, runner, field, fined):
    record, _ = fined
    ready(client, runner, field.establishment)
    response = apply(client, record.id, evidence={"fulfilment": "缴款凭证"})
    assert response.status_code == 400 and "缺少材料" in response.get_data(as_text=True)
    assert db.session.execute(select(RepairApplication)).first() is None


def test_another_establishments_repair_and_notice_are_refused_and_audited(client, runner, field, fined):
    record, _ = fined
    application = repair.apply(db.session, factories.ACTOR, record.id, on_behalf_of=field.establishment.id,
                               evidence=EVIDENCE, on=china_today())
    db.session.commit()
    approve(application.id)
    ready(client, runner, factories.establishment(name="别家宾馆"))
    assert client.get(f"/portal/repairs/{application.id}/notice.pdf").status_code == 403
    assert client.get(f"/portal/repairs/{application.id}").status_code == 403
    assert client.get(f"/portal/records/{record.id}/repair").status_code == 403
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars().all()
    assert len(refused) == 3


def test_my_credit_report_downloads_as_pdf(client, runner, field):
    ready(client, runner, field.establishment)
    response = client.get(f"/portal/establishments/{field.establishment.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")


def test_another_establishments_credit_report_is_refused(client, runner, field):
    ready(client, runner, factories.establishment(name="别家宾馆"))
    assert client.get(f"/portal/establishments/{field.establishment.id}/report.pdf").status_code == 403
