"""Objections (异议): marking under review, deciding, re-grading, working-day deadlines."""
from datetime import date

import pytest
from sqlalchemy import select

from supervision.credit import records
from supervision.credit.events import CreditEvent
from supervision.credit.grading.models import Grade, GradingRun
from supervision.credit.grading.current import current_grade
from supervision.credit.lifecycle_models import Objection, ObjectionEvidence
from supervision.credit.models import CreditRecord
from supervision.credit.policies import Policies
from supervision.credit.publicity import publicity_of
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories
from tests.lifecycle_support import establishment, ok, publish_year, refused

PDF = b"%PDF-1.4\n%test evidence\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
def est(app):
    return establishment()


@pytest.fixture
def penalty(est):
    # general penalty -15, clean inspection +2: 77 → C; without the penalty 92 → B
    credit.record(est.subject_id, "inspection", arose_on=date(2025, 5, 1), title="日常巡查未发现问题")
    return credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2026, 3, 1),
                         title="罚款五千元")


def raise_(runner, record_id, *extra, on="2026-09-30"):
    return ok(runner, "objections", "raise", record_id, "--reason", "处罚决定已被行政复议撤销", "--by", "王科员",
              "--on", on, *extra)


def under_review(record_id) -> bool:
    row = db.session.get(CreditRecord, record_id)
    return publicity_of(row, on=date(2026, 10, 1), policies=Policies(db.session)).under_review


def test_an_objection_marks_the_record_under_review_everywhere(runner, est, penalty):
    raise_(runner, penalty.id)
    assert db.session.get(CreditRecord, penalty.id).status == "under_objection"
    [view] = [v for v in records.subject_records(db.session, factories.ACTOR, est.subject_id, on=date(2026, 10, 1))
              if v.record.id == penalty.id]
    assert view.publicity.public and view.publicity.under_review and "异议审核中" in view.publicity.note


def test_a_rejected_objection_unmarks_the_record_and_changes_no_grade(runner, est, penalty):
    run_id = publish_year(runner, 2026 - 1)
    before = current_grade(db.session, est.subject_id)
    raise_(runner, penalty.id)
    objection = db.session.execute(select(Objection)).scalar_one()
    ok(runner, "objections", "decide", objection.id, "--rejected", "--reason", "复议维持原处罚", "--by", "李所长")
    db.session.refresh(objection)
    assert (objection.status, objection.decision_reason) == ("rejected", "复议维持原处罚")
    assert db.session.get(CreditRecord, penalty.id).status == "effective" and not under_review(penalty.id)
    assert current_grade(db.session, est.subject_id) == before
    assert db.session.execute(select(GradingRun.id)).scalars().all() == [run_id]


def test_an_upheld_objection_regrades_in_a_run_that_supersedes_only_that_establishment(runner, est):
    other = establishment(name="另一家酒店", credit_code=factories.valid_credit_code())
    wrong = credit.record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 3, 1),
                          title="罚款五千元")
    credit.record(other.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 3, 1))
    old_run = publish_year(runner, 2025)
    assert current_grade(db.session, est.subject_id).grade == "C"  # 90 - 15
    raise_(runner, wrong.id)
    objection = db.session.execute(select(Objection)).scalar_one()
    out = ok(runner, "objections", "decide", objection.id, "--upheld", "--outcome", "revoked",
             "--reason", "处罚决定已被撤销", "--by", "李所长")
    assert "重新评价批次" in out
    db.session.refresh(objection)
    [new_run_id] = objection.regrade_run_ids
    new = current_grade(db.session, est.subject_id)
    assert (new.grade, new.score, new.run_id) == ("B", 90, new_run_id)
    run = db.session.get(GradingRun, new_run_id)
    assert (run.status, run.supersedes_id, run.year) == ("published", old_run, 2025)
    assert db.session.execute(select(Grade.subject_id).where(Grade.run_id == new_run_id)).scalars().all() == [est.subject_id]
    assert current_grade(db.session, other.subject_id).run_id == old_run  # the others keep their grade
    assert db.session.get(GradingRun, old_run).status == "published"
    assert db.session.get(CreditRecord, wrong.id).status == "revoked"
    event = db.session.execute(select(CreditEvent).where(CreditEvent.event_type == "objection.decided")).scalar_one()
    assert event.payload["decision"] == "upheld" and event.payload["credit_code"] == est.credit_code


def test_the_superseding_run_verifies_against_its_records(runner, est, penalty):
    publish_year(runner, 2026)
    raise_(runner, penalty.id)
    objection = db.session.execute(select(Objection)).scalar_one()
    ok(runner, "objections", "decide", objection.id, "--upheld", "--outcome", "corrected", "--reason", "金额有误",
       "--by", "李所长")
    db.session.refresh(objection)
    [run_id] = objection.regrade_run_ids
    ok(runner, "grade", "verify", run_id)


def test_deciding_twice_is_refused(runner, penalty):
    raise_(runner, penalty.id)
    objection = db.session.execute(select(Objection)).scalar_one()
    ok(runner, "objections", "decide", objection.id, "--rejected", "--reason", "维持", "--by", "李所长")
    assert "已处理" in refused(runner, "objections", "decide", objection.id, "--rejected", "--reason", "维持", "--by", "李所长")


def test_upheld_needs_an_outcome(runner, penalty):
    raise_(runner, penalty.id)
    objection = db.session.execute(select(Objection)).scalar_one()
    assert "更正" in refused(runner, "objections", "decide", objection.id, "--upheld", "--reason", "x", "--by", "李所长")
    assert db.session.get(CreditRecord, penalty.id).status == "under_objection"


def test_a_second_objection_to_the_same_record_is_refused(runner, penalty):
    raise_(runner, penalty.id)
    out = refused(runner, "objections", "raise", penalty.id, "--reason", "again", "--by", "王科员")
    assert "未决异议" in out
    assert len(db.session.execute(select(Objection)).scalars().all()) == 1


def test_the_deadline_counts_working_days_across_national_day(runner, penalty):
    # 30 Sep 2026 + 10 working days: 1–7 Oct is National Day, Saturday 10 Oct a make-up working
    # day. Skipping weekends only would say 14 Oct.
    out = raise_(runner, penalty.id, on="2026-09-30")
    assert db.session.execute(select(Objection.deadline)).scalar_one() == date(2026, 10, 20)
    assert "2026-10-20" in out


def test_a_deadline_in_an_uncovered_year_is_flagged_not_guessed(runner, penalty):
    out = raise_(runner, penalty.id, on="2026-12-28")
    objection = db.session.execute(select(Objection)).scalar_one()
    assert objection.deadline is None and "2027" in objection.deadline_flag and "无法计算" in out
    listing = ok(runner, "objections", "overdue", "--on", "2027-02-01")
    assert "处理时限无法计算的异议 1 件" in listing and "2027" in listing


def test_an_extended_calendar_counts_into_the_new_year(runner, penalty, tmp_path):
    days = tmp_path / "2027.csv"
    days.write_text("2027-01-01,holiday,元旦\n", encoding="utf-8")
    ok(runner, "calendar", "load", days, "--source", "国办发明电〔2026〕X号")
    raise_(runner, penalty.id, on="2026-12-28")
    # 29, 30, 31 Dec; 1 Jan holiday; 4–8 Jan; 11, 12 Jan
    assert db.session.execute(select(Objection.deadline)).scalar_one() == date(2027, 1, 12)


def test_a_covered_year_cannot_be_loaded_again(runner, app):
    assert "已包含 2026" in refused(runner, "calendar", "add-year", "2026", "--source", "x")


def test_overdue_objections_are_listed(runner, penalty):
    raise_(runner, penalty.id, on="2026-09-30")
    assert "逾期未处理的异议 0 件" in ok(runner, "objections", "overdue", "--on", "2026-10-20")
    listing = ok(runner, "objections", "overdue", "--on", "2026-10-21")
    assert "逾期未处理的异议 1 件" in listing and f"信用信息 {penalty.id}" in listing


def test_evidence_files_are_kept_by_content_and_checked_by_signature(runner, app, penalty, tmp_path):
    good, bad = tmp_path / "复议决定.pdf", tmp_path / "fake.pdf"
    good.write_bytes(PDF)
    bad.write_bytes(b"MZ not a pdf")
    db.session.commit()  # a refusal rolls back its unit of work
    out = refused(runner, "objections", "raise", penalty.id, "--reason", "x", "--by", "王科员", "--evidence", bad)
    assert "不是 PDF" in out and db.session.get(CreditRecord, penalty.id).status == "effective"
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)
    raise_(runner, penalty.id, "--evidence", good, "--evidence", photo)
    evidence = db.session.execute(select(ObjectionEvidence).order_by(ObjectionEvidence.id)).scalars().all()
    assert [(e.filename, e.media_type) for e in evidence] == [("复议决定.pdf", "application/pdf"), ("现场.png", "image/png")]
    from supervision.inspections.attachments import AttachmentStore

    assert AttachmentStore(app.config["ATTACHMENT_DIR"]).path_for(evidence[0].sha256).read_bytes() == PDF


def test_every_step_is_audited(runner, penalty):
    from supervision.audit.models import AuditEntry

    raise_(runner, penalty.id)
    objection = db.session.execute(select(Objection)).scalar_one()
    ok(runner, "objections", "decide", objection.id, "--rejected", "--reason", "维持", "--by", "李所长")
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars().all()
    assert {"objection.raise", "objection.decide", "credit_record.status"} <= set(actions)


def test_add_year_takes_holidays_and_make_up_days(runner, app):
    from supervision.credit.calendar import WorkingDays

    ok(runner, "calendar", "add-year", "2027", "--source", "国办发明电〔2026〕X号", "--holiday", "2027-01-01:元旦",
       "--workday", "2027-02-07:春节调休")
    days = WorkingDays(db.session)
    assert not days.is_workday(date(2027, 1, 1)) and days.is_workday(date(2027, 2, 7))
    assert days.is_workday(date(2027, 1, 4)) and not days.is_workday(date(2027, 1, 9))
    assert "2027\t国办发明电〔2026〕X号" in ok(runner, "calendar", "show")


def test_a_bad_calendar_file_is_refused_whole(runner, app, tmp_path):
    from supervision.credit.lifecycle_models import CalendarYear

    bad = tmp_path / "2027.csv"
    bad.write_text("2027-01-01,holiday,元旦\n2027-01-02,holiday,周六\n", encoding="utf-8")
    assert "本来就是休息日" in refused(runner, "calendar", "load", bad, "--source", "x")
    assert db.session.get(CalendarYear, 2027) is None


def test_a_supervisor_copies_an_objections_evidence_out(runner, penalty, tmp_path):
    good = tmp_path / "复议决定.pdf"
    good.write_bytes(PDF)
    raise_(runner, penalty.id, "--evidence", good)
    objection = db.session.execute(select(Objection)).scalar_one()
    out = ok(runner, "objections", "evidence", objection.id, "--out", tmp_path / "out")
    [copy] = list((tmp_path / "out").iterdir())
    assert "复议决定.pdf" in out and copy.read_bytes() == PDF


def test_evidence_of_an_unknown_objection_is_refused(runner, app):
    assert "异议不存在" in refused(runner, "objections", "evidence", 999)
