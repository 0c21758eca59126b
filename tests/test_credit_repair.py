"""Credit repair (信用修复): eligibility at its edges, approval, refusal, the confirmation notice."""
import io
from datetime import date

import pypdf
import pytest
from sqlalchemy import select

from supervision.credit import records, repair
from supervision.credit.events import CreditEvent
from supervision.credit.lifecycle_models import ListEntry, RepairApplication
from supervision.credit.models import CreditRecord
from supervision.credit.policies import Policies
from supervision.credit.publicity import publicity_of
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories
from tests.lifecycle_support import establishment, ok, penalty, penalty_of, refused

EVIDENCE = {"fulfilment": "罚款缴纳凭证", "commitment": "信用修复承诺书", "training": "培训结业证明"}
DECIDED = date(2026, 1, 10)  # general procedure: public 12 months, repairable after 3 (from 2026-04-10)


@pytest.fixture
def est(app):
    return establishment(name="玄武区金陵大酒店")


@pytest.fixture
def fined(est):
    record, _ = penalty(est, decided_on=DECIDED, fulfilled_on=date(2026, 2, 1))
    return record


def check(record_id, on, evidence=EVIDENCE):
    return repair.eligibility(db.session, factories.ACTOR, record_id, on=on, evidence=evidence)


def test_eligible_from_the_first_day_after_the_minimum_publicity_period(fined):
    before = check(fined.id, date(2026, 4, 9))
    assert not before.eligible and before.eligible_from == date(2026, 4, 10)
    assert "2026-04-10 起可申请" in before.reasons[0]
    assert check(fined.id, date(2026, 4, 10)).eligible


def test_an_unfulfilled_penalty_is_not_eligible(est):
    record, _ = penalty(est, decided_on=DECIDED)
    answer = check(record.id, date(2026, 6, 1))
    assert not answer.eligible and answer.reasons == ["行政处罚决定尚未履行完毕"]


def test_missing_evidence_is_named(fined):
    answer = check(fined.id, date(2026, 6, 1), {"fulfilment": "凭证", "commitment": "承诺书"})
    assert not answer.eligible and answer.missing_evidence == ["training"]
    assert "信用修复培训证明" in answer.reasons[0]


def test_a_repeat_within_the_window_postpones_eligibility(est, fined):
    credit.record(est.subject_id, "penalty", code="warning", severity="general", arose_on=date(2026, 3, 1))
    answer = check(fined.id, date(2026, 6, 1))
    assert not answer.eligible and answer.eligible_from == date(2027, 3, 1)
    assert check(fined.id, date(2027, 3, 2)).reasons == []


def test_a_blacklisted_establishment_is_not_eligible(est, fined):
    db.session.add(ListEntry(list_name="blacklist", subject_id=est.subject_id, establishment_id=est.id,
                             rule_key="grade", reason="E", status="entered", notified_on=date(2026, 1, 1),
                             objection_until=date(2026, 1, 15), entered_on=date(2026, 1, 16),
                             expires_on=date(2029, 1, 16)))
    db.session.flush()
    answer = check(fined.id, date(2026, 6, 1))
    assert not answer.eligible and "黑名单" in answer.reasons[0] and answer.eligible_from == date(2029, 1, 16)


def test_a_simple_procedure_penalty_is_never_public_so_needs_no_repair(est):
    record, _ = penalty(est, decided_on=DECIDED, fulfilled_on=DECIDED, procedure="simple")
    answer = check(record.id, date(2026, 6, 1))
    assert not answer.eligible and "无需修复" in answer.reasons[0]


def test_other_kinds_of_record_are_not_repairable(est):
    record = credit.record(est.subject_id, "inspection", severity="general", arose_on=date(2026, 1, 1))
    assert "不适用信用修复" in check(record.id, date(2026, 6, 1)).reasons[0]


def apply_and_approve(runner, record_id, on="2026-06-01"):
    ok(runner, "repairs", "apply", record_id, "--fulfilment", EVIDENCE["fulfilment"], "--commitment",
       EVIDENCE["commitment"], "--training", EVIDENCE["training"], "--by", "王科员", "--on", on)
    application = db.session.execute(select(RepairApplication)).scalar_one()
    out = ok(runner, "repairs", "approve", application.id, "--by", "李所长", "--on", on)
    db.session.refresh(application)
    return application, out


def test_an_approved_repair_removes_the_record_from_every_public_answer(runner, est, fined):
    policies = Policies(db.session)
    on = date(2026, 6, 1)
    assert publicity_of(fined, on=on, policies=policies).public
    application, out = apply_and_approve(runner, fined.id)
    assert application.notice_no == "XYXF-2026-%06d" % application.id and application.notice_no in out
    row = db.session.get(CreditRecord, fined.id)
    assert row.status == "repaired"
    assert not publicity_of(row, on=on, policies=policies).public
    assert not publicity_of(penalty_of(fined.id), on=on, policies=policies, record=row).public
    [view] = records.subject_records(db.session, factories.ACTOR, est.subject_id, on=on)
    assert not view.publicity.public and "信用修复" in view.publicity.note
    event = db.session.execute(select(CreditEvent).where(CreditEvent.event_type == "repair.approved")).scalar_one()
    assert event.payload["notice_no"] == application.notice_no


def test_an_ineligible_application_is_refused_with_its_reasons(runner, fined):
    db.session.commit()
    out = refused(runner, "repairs", "apply", fined.id, "--fulfilment", "x", "--commitment", "y", "--training", "z",
                  "--by", "王科员", "--on", "2026-04-01")
    assert "最短公示期未满" in out and "2026-04-10" in out
    assert db.session.execute(select(RepairApplication)).first() is None


def test_a_refusal_keeps_its_reason_and_the_record_stays_public(runner, fined):
    ok(runner, "repairs", "apply", fined.id, "--fulfilment", "x", "--commitment", "y", "--training", "z",
       "--by", "王科员", "--on", "2026-06-01")
    application = db.session.execute(select(RepairApplication)).scalar_one()
    ok(runner, "repairs", "refuse", application.id, "--by", "李所长", "--reason", "培训证明不实", "--on", "2026-06-02")
    db.session.refresh(application)
    assert (application.status, application.decision_reason) == ("refused", "培训证明不实")
    assert db.session.get(CreditRecord, fined.id).status == "effective"


def test_repairing_the_record_behind_a_blacklist_entry_ends_the_entry(runner, est):
    record = credit.record(est.subject_id, "dishonesty", code="false_materials", severity="serious", arose_on=date(2024, 1, 10))
    entry = ListEntry(list_name="blacklist", subject_id=est.subject_id, establishment_id=est.id,
                      rule_key="serious_dishonesty", reason="严重失信", cause_record_id=record.id, status="entered",
                      notified_on=date(2025, 1, 1), objection_until=date(2025, 1, 15), entered_on=date(2025, 1, 16),
                      expires_on=date(2028, 1, 16))
    db.session.add(entry)
    db.session.flush()
    application, _ = apply_and_approve(runner, record.id)
    db.session.refresh(entry)
    assert (entry.status, entry.exited_on) == ("exited", date(2026, 6, 1)) and application.notice_no in entry.exit_reason
    assert db.session.execute(select(CreditEvent.event_type).where(CreditEvent.event_type == "list.exited")).first()


def test_the_notice_pdf_carries_the_chinese_name_and_numbers_with_every_glyph(runner, est, fined, tmp_path):
    application, _ = apply_and_approve(runner, fined.id)
    out = tmp_path / "notice.pdf"
    ok(runner, "repairs", "notice", application.id, "--out", out)
    reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
    # pypdf reads each character of this CID font with a leading NUL (poppler's pdftotext does not)
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    for expected in ("信用修复确认书", "玄武区金陵大酒店", est.credit_code, application.notice_no, "罚款五千元", "2026-06-01"):
        assert expected in text
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    descendant = fonts[0]["/DescendantFonts"][0].get_object()
    assert "NotoSansCJK" in str(fonts[0]["/BaseFont"]) and "/FontFile3" in descendant["/FontDescriptor"]
    assert "\ufffd" not in text  # nothing unmappable


def test_the_notice_html_escapes_and_names_the_establishment(runner, est, fined, tmp_path):
    application, _ = apply_and_approve(runner, fined.id)
    out = tmp_path / "notice.html"
    ok(runner, "repairs", "notice", application.id, "--out", out)
    html = out.read_text(encoding="utf-8")
    assert "玄武区金陵大酒店" in html and application.notice_no in html and "<script" not in html


def test_every_notice_of_a_process_has_its_glyphs(runner, est, fined, tmp_path):
    application, _ = apply_and_approve(runner, fined.id)
    texts = []
    for n in range(2):  # the face is parsed once; each document must still embed what it uses
        out = tmp_path / f"notice{n}.pdf"
        ok(runner, "repairs", "notice", application.id, "--out", out)
        reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
        texts.append("".join(page.extract_text() for page in reader.pages).replace("\x00", ""))
    assert texts[0] == texts[1] and "玄武区金陵大酒店" in texts[1]
