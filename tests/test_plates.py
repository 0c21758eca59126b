"""QR identity plates: re-issue, resolution of a scanned token, printable plates."""
import io
import json
import shutil
import subprocess
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from qr import render
from qr.plate import plate_url
from supervision import jobs
from supervision.extensions import db
from supervision.registry import plate_printing, plates
from tests import credit_factory as credit
from tests import factories

LONG_NAME = "江苏省南京市玄武区新街口街道中山东路悦来大酒店连锁经营管理有限公司第一分公司附属游泳馆与美容美发中心"


@pytest.fixture
def est(app):
    factories.jurisdiction()
    return factories.establishment()


def ok(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def decode(png) -> list[str]:
    image = png if isinstance(png, Image.Image) else Image.open(io.BytesIO(png))
    return sorted(r.text for r in zxingcpp.read_barcodes(image))


def test_url_prints_the_current_plate_url(runner, app, est):
    output = ok(runner, "plates", "url", est.credit_code)
    assert output.strip() == plate_url(app.config["PUBLIC_BASE_URL"], est.active_plate.token)


def test_url_of_an_unknown_credit_code_fails(runner, est):
    result = runner.invoke(args=["plates", "url", factories.valid_credit_code()])
    assert result.exit_code == 1 and "不存在" in result.output


def test_issue_gives_a_new_url_and_the_old_token_reads_as_replaced(runner, est):
    old = est.active_plate.token
    new_url = ok(runner, "plates", "issue", est.credit_code).strip().splitlines()[-1]
    assert not new_url.endswith(old)
    answer = plates.resolve_token(db.session, old)
    assert answer.state == plates.REPLACED and answer.replaced_at is not None
    assert new_url.endswith(f"/P/{answer.current_token}")
    assert plates.resolve_token(db.session, answer.current_token).state == plates.CURRENT


def test_issue_records_the_revocation_and_the_new_plate_in_the_audit_chain(runner, est):
    from sqlalchemy import select

    from supervision.audit.models import AuditEntry

    old_id = est.active_plate.id
    ok(runner, "plates", "issue", est.credit_code)
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.entity_id)
                                 .where(AuditEntry.entity_type == "plate_tokens")).all()
    assert ("plate.revoke", str(old_id)) in actions
    assert any(action == "plate.issue" and entity != str(old_id) for action, entity in actions)
    assert "audit chain intact" in ok(runner, "audit", "verify")


def test_issue_for_an_unknown_credit_code_changes_nothing(runner, est):
    token = est.active_plate.token
    db.session.commit()  # the refused command rolls back its own unit of work only
    result = runner.invoke(args=["plates", "issue", factories.valid_credit_code()])
    assert result.exit_code == 1 and "不存在" in result.output
    assert plates.resolve_token(db.session, token).state == plates.CURRENT


def test_the_old_plate_page_says_it_was_replaced_and_from_when(client, runner, est):
    old = est.active_plate.token
    ok(runner, "plates", "issue", est.credit_code)
    answer = plates.resolve_token(db.session, old)
    response = client.get(f"/P/{old}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"此标牌已于{answer.replaced_at_text}作废，已换发新标牌" in page
    assert f"/P/{answer.current_token}" in page


def test_a_closed_establishments_plate_answers_closed(app):
    factories.jurisdiction()
    closed = factories.establishment(status="closed")
    answer = plates.resolve_token(db.session, closed.active_plate.token)
    assert answer.state == plates.CLOSED and answer.closed


@pytest.mark.parametrize("token", ["ABCDEFGHJK", "abc", "", "ABCDE-FGHJ1", "标牌", "A" * 40])
def test_an_unknown_token_answers_unknown(app, token):
    assert plates.resolve_token(db.session, token).state == plates.UNKNOWN


def test_a_typed_plate_number_resolves_like_the_token(est):
    typed = plates.plate_number(est.active_plate.token).lower()
    assert plates.resolve_token(db.session, typed).state == plates.CURRENT


def test_an_unknown_plate_gets_a_404_page_saying_it_is_not_genuine(client, app):
    response = client.get("/P/ABCDEFGHJK")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "不是卫生健康部门发放的有效二维码身份牌" in page and "12345" in page


def test_a_png_plate_decodes_to_exactly_the_plate_url(runner, est, tmp_path):
    out = tmp_path / "plate.png"
    ok(runner, "plates", "render", "--out", str(out), "--credit-code", est.credit_code)
    url = ok(runner, "plates", "url", est.credit_code).strip()
    assert decode(out.read_bytes()) == [url]


def test_a_plate_without_a_grade_says_so(est):
    assert plate_printing.plate_face(db.session, est.credit_code).grade_text == "暂未评级"


def test_a_plate_shows_the_published_grade_with_its_year(runner, est):
    credit.record(est.subject_id, "inspection", severity="none", arose_on=date(2025, 5, 1), title="日常巡查未发现问题")
    run_id = json.loads(ok(runner, "grade", "run", "--year", "2025", "--json").strip().splitlines()[-1])["run_id"]
    ok(runner, "grade", "approve", str(run_id), "--by", "张主任")
    ok(runner, "grade", "publish", str(run_id), "--by", "李所长")
    face = plate_printing.plate_face(db.session, est.credit_code)
    assert face.grade_text.endswith("级（2025年度）") and face.grade_text[0] in "ABCDE"


def test_a_60_character_name_wraps_inside_its_column(app):
    factories.jurisdiction()
    est = factories.establishment(name=LONG_NAME[:60])
    face = plate_printing.plate_face(db.session, est.credit_code)
    font = render._pil_font(100)  # Noto Sans CJK SC at 100 px: widths scale with the size

    def measure(text, size_pt):
        return font.getlength(text) / 100 * size_pt * render.PT

    plan = render.layout(face, plate_url(app.config["PUBLIC_BASE_URL"], face.token), measure)
    name_lines = [t for t in plan.texts if t.role == "name"]
    assert len(name_lines) > 1 and "".join(t.text for t in name_lines) == LONG_NAME[:60]
    assert all(t.x + t.width <= render.TEXT_X + render.TEXT_W for t in name_lines)
    bottom = max(t.baseline for t in name_lines)
    assert bottom <= render.NAME_Y + render.NAME_H
    assert all(t.x >= 0 and t.x + t.width <= render.PLATE_W for t in plan.texts)


def test_a_long_name_leaves_the_symbol_readable(runner, app, tmp_path):
    factories.jurisdiction()
    est = factories.establishment(name=LONG_NAME[:60])
    out = tmp_path / "long.png"
    ok(runner, "plates", "render", "--out", str(out), "--credit-code", est.credit_code)
    assert decode(out.read_bytes()) == [plate_url(app.config["PUBLIC_BASE_URL"], est.active_plate.token)]


def test_a_closed_establishment_gets_no_new_plate_print(runner, app):
    factories.jurisdiction()
    closed = factories.establishment(status="closed")
    result = runner.invoke(args=["plates", "render", "--out", "x.png", "--credit-code", closed.credit_code])
    assert result.exit_code == 1 and "注销" in result.output


def _pdf_page_urls(pdf, tmp_path) -> list[str]:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the PDF; .ci/run installs it")
    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")], check=True)
    [page] = tmp_path.glob("page*.png")
    return decode(Image.open(page))


def test_a_pdf_sheet_decodes_to_exactly_the_plate_urls(runner, app, tmp_path):
    factories.jurisdiction()
    made = [factories.establishment(name=LONG_NAME[: 10 + 7 * n]) for n in range(7)]
    out = tmp_path / "sheet.pdf"
    output = ok(runner, "plates", "render", "--out", str(out), "--district", "320102")
    assert "已生成 7 块标牌（1 页）" in output
    expected = sorted(plate_url(app.config["PUBLIC_BASE_URL"], e.active_plate.token) for e in made)
    assert _pdf_page_urls(out, tmp_path) == expected


def test_a_sheet_leaves_out_closed_establishments_and_filters_by_category(app):
    factories.jurisdiction()
    factories.establishment()
    factories.establishment(category="swimming")
    factories.establishment(status="closed")
    assert plate_printing.count_plates(db.session, plate_printing.Selection(district="320102")) == 2
    assert plate_printing.count_plates(db.session, plate_printing.Selection(category="swimming")) == 1


def test_a_sheet_of_an_unknown_district_is_refused(runner, est, tmp_path):
    result = runner.invoke(args=["plates", "render", "--out", str(tmp_path / "s.pdf"), "--district", "999999"])
    assert result.exit_code == 1 and "辖区“999999”不存在" in result.output


def test_a_png_needs_a_credit_code(runner, est, tmp_path):
    result = runner.invoke(args=["plates", "render", "--out", str(tmp_path / "s.png")])
    assert result.exit_code == 1 and "--credit-code" in result.output


def test_reading_a_sheet_costs_the_same_statements_for_more_plates(app, count_queries):
    factories.jurisdiction()
    for _ in range(3):
        factories.establishment()
    db.session.flush()
    costs = []
    for size in (3, 3 + 9):
        while plate_printing.count_plates(db.session, plate_printing.Selection()) < size:
            factories.establishment()
        db.session.flush()
        db.session.expire_all()
        with count_queries() as n:
            faces = [f for batch in plate_printing.plate_faces(db.session, plate_printing.Selection()) for f in batch]
        assert len(faces) == size
        costs.append(n())
    assert costs[0] == costs[1]


def test_the_sheet_job_runs_through_the_job_queue_interface(app, est, tmp_path):
    from qr.jobs import render_sheet_job

    out = tmp_path / "job.pdf"
    submitted = jobs.enqueue(render_sheet_job, str(out), district="320102")
    assert submitted.result == {"out": str(out), "plates": 1, "pages": 1}
    assert out.read_bytes().startswith(b"%PDF")


def test_a_sheet_can_hold_one_grid(app):
    district = factories.jurisdiction()
    g = factories.grid(district)
    factories.establishment(grid=g.code)
    factories.establishment()
    assert plate_printing.count_plates(db.session, plate_printing.Selection(grid=g.code)) == 1
    with pytest.raises(plate_printing.NotFound):
        plate_printing.count_plates(db.session, plate_printing.Selection(grid="NO-SUCH-GRID"))


def test_a_sheet_queued_on_redis_is_rendered_by_a_worker(fresh_app, tmp_path):
    import uuid

    from rq import Queue, SimpleWorker

    from qr.jobs import render_sheet_job

    fresh_app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", JOB_QUEUE=f"test-{uuid.uuid4().hex[:10]}")
    connection = jobs.redis_connection(fresh_app)
    if connection is None:
        pytest.fail("Redis at 127.0.0.1:6379 does not answer: .ci/run starts it (redis-server --daemonize yes)")
    queue = Queue(fresh_app.config["JOB_QUEUE"], connection=connection)
    try:
        factories.jurisdiction()
        est = factories.establishment()
        token = est.active_plate.token
        db.session.commit()
        out = tmp_path / "queued.pdf"
        submitted = jobs.enqueue(render_sheet_job, str(out), district="320102")
        assert submitted.queued and not out.exists()
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert queue.fetch_job(submitted.job_id).return_value()["plates"] == 1
        assert _pdf_page_urls(out, tmp_path) == [plate_url(fresh_app.config["PUBLIC_BASE_URL"], token)]
    finally:
        queue.empty()
