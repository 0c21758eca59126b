"""Complaints from the plate page: the form, CSRF, rate limits, the reference and status, the
task on the grid's terminals, the supervisor's decision and its credit record."""
import io

import pytest
from sqlalchemy import select

from public_site.protection import limiter_of
from supervision.complaints.models import Complaint
from supervision.credit.models import CreditRecord
from supervision.extensions import db
from supervision.inspections.models import Task
from tests.public_support import csrf_token, token_of
from tests.terminal import png


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    limiter_of(app).reset()
    yield
    limiter_of(app).reset()


def form_url(field) -> str:
    return f"/P/{token_of(field.establishment)}/complaint"


def file(client, field, **overrides):
    token = csrf_token(client.get(form_url(field)).get_data(as_text=True))
    data = {"csrf_token": token, "category": "hygiene", "description": "毛巾未消毒，地面有积水",
            "contact_name": "李女士", "contact_phone": "13912345678", **overrides}
    return client.post(form_url(field), data=data, content_type="multipart/form-data")


def test_filing_gives_a_reference_and_a_status_page_without_the_complainant(client, field):
    response = file(client, field)
    assert response.status_code == 303
    status = client.get(response.headers["Location"])
    html = status.get_data(as_text=True)
    complaint = db.session.execute(select(Complaint)).scalar_one()
    assert complaint.reference in html and "已受理" in html
    assert "李女士" not in html and "13912345678" not in html


def test_the_status_can_be_looked_up_by_reference(client, field):
    file(client, field)
    reference = db.session.execute(select(Complaint.reference)).scalar_one()
    response = client.get("/complaints", query_string={"ref": reference.lower()})
    assert client.get(response.headers["Location"]).status_code == 200


def test_an_unknown_reference_is_404(client, app):
    assert client.get("/complaints/TSNOTHERE22").status_code == 404


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(client, field):
    response = client.post(form_url(field), data={"category": "hygiene", "description": "毛巾未消毒，地面有积水"})
    assert response.status_code == 400
    assert db.session.execute(select(Complaint)).first() is None


def test_the_json_api_stays_exempt_from_csrf(client, field):
    response = client.post("/api/v1/inspections", json=field.submission(), headers=field.headers)
    assert response.status_code in (200, 201, 202)


def test_bad_input_is_a_400_page_that_names_the_field(client, field):
    response = file(client, field, description="短", category="nope")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "请选择投诉类别" in html and "至少 5 个字" in html
    assert db.session.execute(select(Complaint)).first() is None


def test_a_real_photo_is_kept(client, field):
    response = file(client, field, photo=(io.BytesIO(png(3)), "a.png"))
    assert response.status_code == 303
    assert db.session.execute(select(Complaint.photo_type)).scalar_one() == "image/png"


def test_a_file_that_is_not_an_image_is_refused(client, field):
    response = file(client, field, photo=(io.BytesIO(b"<html>not an image</html>"), "a.png"))
    assert response.status_code == 400 and "无法识别的图片" in response.get_data(as_text=True)


def test_a_photo_over_the_limit_is_refused(client, field, monkeypatch):
    from supervision.complaints import service

    monkeypatch.setattr(service, "MAX_PHOTO_BYTES", 100)  # a small limit keeps the test body in memory
    response = file(client, field, photo=(io.BytesIO(png(3) + b"\0" * 200), "a.png"))
    assert response.status_code == 400 and "照片不能超过" in response.get_data(as_text=True)
    assert db.session.execute(select(Complaint)).first() is None


def test_filing_is_rate_limited_per_client(client, field, app, monkeypatch):
    # A daily window: a per-minute one could roll over between the requests.
    monkeypatch.setitem(app.config, "COMPLAINT_LIMIT_PER_CLIENT", "5 per day")
    statuses = [file(client, field).status_code for _ in range(6)]
    assert statuses[:5] == [303] * 5 and statuses[5] == 429


def test_filing_is_rate_limited_per_plate(client, field, app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_LIMIT_PER_PLATE", "2 per day")
    statuses = [_from(client, field, f"10.0.0.{i}") for i in range(3)]
    assert statuses == [303, 303, 429]


def _from(client, field, address: str) -> int:
    page = client.get(form_url(field), environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return client.post(form_url(field), environ_base={"REMOTE_ADDR": address}, content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(page), "category": "other", "description": "问题描述五个字以上"}
                       ).status_code


def test_a_complaint_reaches_the_grids_terminal_as_a_task(client, field):
    file(client, field)
    complaint = db.session.execute(select(Complaint)).scalar_one()
    body = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()
    task = next(t for t in body["tasks"] if t["id"] == complaint.task_id)
    assert task["kind"] == "complaint" and task["establishment_id"] == field.establishment.id
    assert "李女士" not in str(task) and "13912345678" not in str(task)


def test_a_substantiated_complaint_becomes_an_adverse_credit_record(client, runner, field):
    file(client, field)
    reference = db.session.execute(select(Complaint.reference)).scalar_one()
    result = runner.invoke(args=["complaints", "decide", reference, "--substantiated", "--by", "张科长"])
    assert result.exit_code == 0, result.output
    record = db.session.execute(select(CreditRecord).where(CreditRecord.source_ref.like("complaint:%"))).scalar_one()
    assert (record.kind, record.code, record.subject_id) == ("adverse", "complaint_substantiated",
                                                           field.establishment.subject_id)
    assert "属实" in client.get(f"/complaints/{reference}").get_data(as_text=True)


def test_an_unfounded_complaint_records_nothing_and_cannot_be_decided_twice(client, runner, field):
    file(client, field)
    reference = db.session.execute(select(Complaint.reference)).scalar_one()
    assert runner.invoke(args=["complaints", "decide", reference, "--unfounded", "--by", "张科长"]).exit_code == 0
    assert db.session.execute(select(CreditRecord).where(CreditRecord.source_ref.like("complaint:%"))).first() is None
    again = runner.invoke(args=["complaints", "decide", reference, "--substantiated", "--by", "张科长"])
    assert again.exit_code == 1 and "已作出核查结论" in again.output


def test_the_task_has_no_contact_details(client, field):
    file(client, field)
    task = db.session.execute(select(Task).where(Task.kind == "complaint")).scalar_one()
    assert "李女士" not in task.note and "13912345678" not in task.note


def test_limits_are_kept_in_redis_when_it_is_configured(databases, tmp_path):
    import uuid

    import redis

    from supervision.app import create_app
    from tests.conftest import base_config
    from tests.terminal import make_field

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    app = create_app({**base_config(databases.new(), tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/0",
                      "RATELIMIT_KEY_PREFIX": prefix})
    connection = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        connection.ping()
    except redis.RedisError:
        pytest.fail("Redis at 127.0.0.1:6379 does not answer: .ci/run starts it (redis-server --daemonize yes)")
    with app.app_context():
        try:
            field = make_field(app)
            client = app.test_client()
            assert file(client, field).status_code == 303
            assert connection.keys(f"LIMITS:LIMITER/{prefix}/*")
        finally:
            for key in connection.keys(f"LIMITS:LIMITER/{prefix}/*"):
                connection.delete(key)
            db.session.remove()
            db.engine.dispose()
