"""Runs through the CLI: run twice, approve, publish, re-open, immutability, verify, explain."""
import json
from datetime import date, datetime

import pytest
from sqlalchemy import select, text, update

from supervision.audit.models import AuditEntry
from supervision.credit.grading.models import Grade, GradeContribution, GradingRun, GradingRunPolicy
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from tests import credit_factory as credit
from tests import factories


@pytest.fixture
def est(app):
    factories.jurisdiction()
    e = factories.establishment()
    credit.record(e.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 3, 1), title="罚款五千元")
    credit.record(e.subject_id, "inspection", severity="none", arose_on=date(2025, 5, 1), title="日常巡查未发现问题")
    return e


def grade_run(runner, *args):
    result = runner.invoke(args=["grade", "run", "--year", "2025", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def ok(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def published(runner):
    run_id = grade_run(runner)["run_id"]
    ok(runner, "grade", "approve", str(run_id), "--by", "张主任")
    ok(runner, "grade", "publish", str(run_id), "--by", "李所长")
    return run_id


def test_run_prints_run_id_and_counts(runner, est):
    result = runner.invoke(args=["grade", "run", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert "A: 0  B: 0  C: 1  D: 0  E: 0" in result.output


def test_running_twice_replaces_the_draft(runner, est):
    first = grade_run(runner)
    second = grade_run(runner)
    assert second["replaced_run_id"] == first["run_id"] and second["counts"] == first["counts"]
    assert db.session.execute(select(GradingRun.id)).scalars().all() == [second["run_id"]]


def test_running_again_after_approval_is_refused(runner, est):
    run_id = grade_run(runner)["run_id"]
    ok(runner, "grade", "approve", str(run_id), "--by", "张主任")
    result = runner.invoke(args=["grade", "run", "--year", "2025"])
    assert result.exit_code == 1 and "grade reopen" in result.output


def test_a_future_year_is_refused(runner, est):
    result = runner.invoke(args=["grade", "run", "--year", "2999"])
    assert result.exit_code == 1 and "年度" in result.output


def test_approve_needs_a_draft_and_publish_needs_approval(runner, est):
    run_id = str(grade_run(runner)["run_id"])
    assert runner.invoke(args=["grade", "publish", run_id, "--by", "李所长"]).exit_code == 1
    ok(runner, "grade", "approve", run_id, "--by", "张主任")
    assert runner.invoke(args=["grade", "approve", run_id, "--by", "张主任"]).exit_code == 1
    ok(runner, "grade", "publish", run_id, "--by", "李所长")
    run = db.session.get(GradingRun, int(run_id))
    assert (run.status, run.approved_by, run.published_by) == ("published", "张主任", "李所长")


def test_publishing_puts_the_digest_in_the_audit_chain(runner, est):
    run_id = published(runner)
    run = db.session.get(GradingRun, run_id)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "grade_publish")).scalar_one()
    assert json.loads(entry.payload)["after"]["digest"] == run.digest and len(run.digest) == 64
    assert "audit chain intact" in ok(runner, "audit", "verify")


def test_a_published_run_is_immutable(runner, est):
    from supervision.credit.grading import approve

    run_id = published(runner)
    with pytest.raises(Exception):
        approve(db.session, factories.ACTOR, run_id, by="某人")
    for statement in ("UPDATE grades SET grade = 'A' WHERE run_id = :r",
                      "DELETE FROM grade_contributions WHERE grade_id IN (SELECT id FROM grades WHERE run_id = :r)",
                      "UPDATE grading_runs SET digest = 'x' WHERE id = :r",
                      "DELETE FROM grading_runs WHERE id = :r"):
        with pytest.raises(Exception, match="cannot be changed"):
            with db.session.begin_nested():
                db.session.execute(text(statement), {"r": run_id})


def test_reopen_makes_a_draft_that_supersedes_once_published(runner, est):
    from supervision.credit.grading import current_grade

    first = published(runner)
    credit.record(est.subject_id, "positive", code="honour", arose_on=date(2025, 8, 1))
    result = runner.invoke(args=["grade", "reopen", str(first), "--reason", "补录表彰信息", "--by", "张主任", "--json"])
    assert result.exit_code == 0, result.output
    second = json.loads(result.output.strip().splitlines()[-1])
    assert second["supersedes_run_id"] == first
    assert current_grade(db.session, est.subject_id).run_id == first  # still the published one
    ok(runner, "grade", "approve", str(second["run_id"]), "--by", "张主任")
    ok(runner, "grade", "publish", str(second["run_id"]), "--by", "李所长")
    assert db.session.get(GradingRun, first).status == "superseded"
    now = current_grade(db.session, est.subject_id)
    assert (now.run_id, now.score) == (second["run_id"], 90 - 15 + 2 + 8)
    assert db.session.get(GradingRun, second["run_id"]).reopen_reason == "补录表彰信息"


def test_reopen_needs_a_reason(runner, est):
    first = published(runner)
    result = runner.invoke(args=["grade", "reopen", str(first), "--reason", " ", "--by", "张主任"])
    assert result.exit_code == 1 and "理由" in result.output


def test_verify_passes_on_an_untouched_run(runner, est):
    run_id = published(runner)
    assert "verifies" in ok(runner, "grade", "verify", str(run_id))


def _approved(runner) -> int:
    run_id = grade_run(runner)["run_id"]
    ok(runner, "grade", "approve", str(run_id), "--by", "张主任")
    return run_id


def test_verify_catches_an_edited_grade(runner, est):
    run_id = _approved(runner)
    db.session.execute(update(Grade).where(Grade.run_id == run_id).values(grade="A", score=99))
    result = runner.invoke(args=["grade", "verify", str(run_id)])
    assert result.exit_code == 1 and est.credit_code in result.output and "重算为 C 级" in result.output


def test_verify_catches_an_edited_point(runner, est):
    run_id = _approved(runner)
    db.session.execute(update(GradeContribution).where(GradeContribution.points == -15).values(points=-1))
    result = runner.invoke(args=["grade", "verify", str(run_id)])
    assert result.exit_code == 1 and est.credit_code in result.output and "-1 分" in result.output


def test_verify_catches_an_edited_record(runner, est):
    run_id = _approved(runner)
    db.session.execute(update(CreditRecord).where(CreditRecord.kind == "penalty").values(severity="minor"))
    result = runner.invoke(args=["grade", "verify", str(run_id)])
    assert result.exit_code == 1 and est.credit_code in result.output


def test_verify_catches_an_edited_title_even_if_points_are_unchanged(runner, est):
    run_id = _approved(runner)
    db.session.execute(update(CreditRecord).where(CreditRecord.kind == "penalty").values(title="罚款五百元"))
    assert runner.invoke(args=["grade", "verify", str(run_id)]).exit_code == 1


def test_verify_catches_an_edited_policy(runner, est):
    run_id = _approved(runner)
    stored = db.session.execute(select(GradingRunPolicy).where(GradingRunPolicy.run_id == run_id)).scalar_one()
    db.session.execute(update(GradingRunPolicy).where(GradingRunPolicy.id == stored.id)
                       .values(text=stored.text.replace("general = -15", "general = -5")))
    result = runner.invoke(args=["grade", "verify", str(run_id)])
    assert result.exit_code == 1 and "哈希不符" in result.output and est.credit_code in result.output


def test_verify_ignores_records_entered_after_the_run(runner, est):
    run_id = _approved(runner)
    credit.record(est.subject_id, "penalty", severity="serious", arose_on=date(2025, 9, 1),
                  entered_at=datetime(2026, 3, 1))
    assert "verifies" in ok(runner, "grade", "verify", str(run_id))


def test_explain_in_chinese_lists_every_record_with_its_points_and_rule(runner, est):
    published(runner)
    output = ok(runner, "grade", "explain", est.credit_code, "--year", "2025")
    assert "2025 年度信用等级：C　得分：77" in output
    assert "罚款五千元" in output and "行政处罚·一般：-15 分" in output
    assert "日常巡查未发现问题" in output and "+2 分" in output
    assert "grading/default/2020-01-01#" in output


def test_explain_without_a_published_grade_says_so(runner, est):
    grade_run(runner)
    result = runner.invoke(args=["grade", "explain", est.credit_code])
    assert result.exit_code == 1 and "没有已发布的信用评价" in result.output


def test_summary_csv_has_counts_by_district_and_category_and_the_list(runner, est, tmp_path):
    factories.establishment(name="=HYPERLINK(\"http://x\")宾馆")
    published(runner)
    out = tmp_path / "summary.csv"
    ok(runner, "grade", "summary", "--year", "2025", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    content = raw.decode("utf-8-sig")
    assert "辖区代码,辖区,类别,A级,B级,C级,D级,E级,合计" in content
    assert "320102,玄武区,住宿场所,0,1,1,0,0,2" in content
    assert "'=HYPERLINK" in content and est.credit_code in content


def test_summary_xlsx(runner, est, tmp_path):
    from openpyxl import load_workbook

    published(runner)
    out = tmp_path / "summary.xlsx"
    ok(runner, "grade", "summary", "--year", "2025", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", "名单"]
    assert [c.value for c in book["名单"][2]][:6] == [est.credit_code, est.name, "玄武区", "住宿场所", 77, "C"]


def test_summary_without_a_published_run_fails_clearly(runner, est, tmp_path):
    result = runner.invoke(args=["grade", "summary", "--year", "2025", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "没有已发布" in result.output


def test_measures_match_grade_and_records(runner, est):
    credit.record(est.subject_id, "adverse", code="rectification_overdue", severity="general", arose_on=date(2026, 1, 5))
    credit.record(est.subject_id, "dishonesty", severity="serious", arose_on=date(2025, 10, 1))
    published(runner)
    output = ok(runner, "credit", "measures", est.credit_code, "--on", "2026-02-01")
    assert "提示约谈" in output and "双随机抽查比例 100%" in output and "降低双随机" not in output


def test_a_malformed_measures_catalogue_names_file_and_key(runner, est, app, tmp_path):
    path = tmp_path / "credit_measures" / "default" / "2024-01-01.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[[measures]]\nkey = "x"\ntype = "bonus"\ntitle = "某措施"\ngrades = ["A"]\n', encoding="utf-8")
    original, app.config["POLICY_DIR"] = app.config["POLICY_DIR"], str(tmp_path)
    try:
        result = runner.invoke(args=["credit", "measures", est.credit_code])
    finally:
        app.config["POLICY_DIR"] = original
    assert result.exit_code == 1 and str(path) in result.output and "measures[0].type" in result.output


def test_the_queue_job_commits_a_draft_run(fresh_app):
    from supervision import jobs
    from supervision.credit.grading import grading_job

    factories.jurisdiction()
    factories.establishment()
    db.session.commit()
    result = jobs.run_job(jobs.function_path(grading_job), (2025,), {})
    assert result["counts"]["B"] == 1
    db.session.remove()
    assert db.session.get(GradingRun, result["run_id"]).status == "draft"


def test_reopening_an_approved_run_supersedes_it_at_once(runner, est):
    run_id = _approved(runner)
    result = runner.invoke(args=["grade", "reopen", str(run_id), "--reason", "审核后发现漏录", "--by", "张主任"])
    assert result.exit_code == 0, result.output
    assert db.session.get(GradingRun, run_id).status == "superseded"


def test_a_draft_can_be_explained_by_run_before_approval(runner, est):
    run_id = grade_run(runner)["run_id"]
    output = ok(runner, "grade", "explain", est.credit_code, "--run", str(run_id))
    assert "草稿" in output and "得分：77" in output
