"""The establishment portal's accounts (issue 19): issue, sign in, forced password change,
lockout, reset, sign-out, CSRF, and isolation between establishments — all through HTTP/CLI."""
from __future__ import annotations

import re

import pytest

from sqlalchemy import select

from supervision.accounts.models import AccountSession, EstablishmentAccount
from supervision.audit.models import AuditEntry
from supervision.extensions import db
from tests import factories
from tests.credit_factory import record
from tests.public_support import csrf_token

NEW_PASSWORD = "新的密码-Strong-2026"


@pytest.fixture(autouse=True)
def district(app):
    factories.jurisdiction()


def issue(runner, credit_code: str) -> str:
    result = runner.invoke(args=["accounts", "issue", credit_code])
    assert result.exit_code == 0, result.output
    return re.search(r"initial password: (\S+)", result.output).group(1)


def token_of(client, path="/portal/login") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def sign_in(client, login: str, password: str):
    return client.post("/portal/login", data={"csrf_token": token_of(client), "login": login, "password": password})


def change_password(client, current: str, new: str = NEW_PASSWORD):
    token = token_of(client, "/portal/password")
    return client.post("/portal/password", data={"csrf_token": token, "current": current, "new": new, "repeat": new})


def ready(client, runner, establishment) -> None:
    """Issue, sign in and replace the initial password."""
    password = issue(runner, establishment.credit_code)
    sign_in(client, establishment.credit_code, password)
    assert change_password(client, password).status_code == 302


def actions(action: str) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_issue_prints_a_password_stored_only_as_argon2_hash(app, runner):
    est = factories.establishment()
    password = issue(runner, est.credit_code)
    account = db.session.execute(select(EstablishmentAccount)).scalar_one()
    assert account.password_hash.startswith("$argon2id$") and password not in account.password_hash
    assert account.must_change_password


def test_issue_twice_is_refused(app, runner):
    est = factories.establishment()
    issue(runner, est.credit_code)
    result = runner.invoke(args=["accounts", "issue", est.credit_code])
    assert result.exit_code == 1 and "已有账号" in result.output


def test_issue_for_unknown_code_is_refused(app, runner):
    result = runner.invoke(args=["accounts", "issue", factories.valid_credit_code()])
    assert result.exit_code == 1 and "单位不存在" in result.output


def test_first_sign_in_forces_a_new_password(app, client, runner):
    est = factories.establishment()
    password = issue(runner, est.credit_code)
    assert sign_in(client, est.credit_code, password).status_code == 302
    response = client.get("/portal/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/password")
    assert change_password(client, password).status_code == 302
    page = client.get("/portal/")
    assert page.status_code == 200 and est.name in page.get_data(as_text=True)


def test_new_password_must_be_long_enough(app, client, runner):
    est = factories.establishment()
    password = issue(runner, est.credit_code)
    sign_in(client, est.credit_code, password)
    response = change_password(client, password, new="short")
    assert response.status_code == 400 and "至少 10 位" in response.get_data(as_text=True)


def test_wrong_password_is_refused(app, client, runner):
    est = factories.establishment()
    issue(runner, est.credit_code)
    response = sign_in(client, est.credit_code, "not-the-password")
    assert response.status_code == 401 and "账号或密码错误" in response.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302


def test_repeated_failures_lock_the_account_and_the_lock_is_audited(app, client, runner):
    app.config["ACCOUNT_MAX_FAILURES"] = 3
    try:
        est = factories.establishment()
        password = issue(runner, est.credit_code)
        for _ in range(3):
            sign_in(client, est.credit_code, "wrong-password")
        response = sign_in(client, est.credit_code, password)  # the right one, too late
        assert response.status_code == 401 and "锁定" in response.get_data(as_text=True)
        assert len(actions("account.lock")) == 1
    finally:
        app.config.pop("ACCOUNT_MAX_FAILURES")


def test_reset_by_a_supervisor_unlocks_and_issues_a_new_password(app, client, runner):
    app.config["ACCOUNT_MAX_FAILURES"] = 2
    try:
        est = factories.establishment()
        old = issue(runner, est.credit_code)
        for _ in range(2):
            sign_in(client, est.credit_code, "wrong-password")
        result = runner.invoke(args=["accounts", "reset", est.credit_code])
        assert result.exit_code == 0, result.output
        new = re.search(r"initial password: (\S+)", result.output).group(1)
        assert sign_in(client, est.credit_code, old).status_code == 401
        assert sign_in(client, est.credit_code, new).status_code == 302
        assert client.get("/portal/").headers["Location"].endswith("/portal/password")
        assert len(actions("account.reset")) == 1
    finally:
        app.config.pop("ACCOUNT_MAX_FAILURES")


def test_sign_out_revokes_the_session_on_the_server(app, client, runner):
    est = factories.establishment()
    ready(client, runner, est)
    cookie = client.get_cookie("session").value
    token = csrf_token(client.get("/portal/").get_data(as_text=True))
    assert client.post("/portal/logout", data={"csrf_token": token}).status_code == 302
    assert db.session.execute(select(AccountSession)).scalar_one().revoked_at is not None
    # Replaying the old cookie does not bring the session back.
    client.set_cookie("session", cookie)
    assert client.get("/portal/").status_code == 302


def test_a_form_without_csrf_token_is_refused(app, client, runner):
    est = factories.establishment()
    password = issue(runner, est.credit_code)
    client.get("/portal/login")
    response = client.post("/portal/login", data={"login": est.credit_code, "password": password})
    assert response.status_code == 400
    assert client.get("/portal/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(app, client, runner):
    est = factories.establishment()
    password = issue(runner, est.credit_code)
    response = sign_in(client, est.credit_code, password)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_own_records_are_listed_with_status_and_publicity(app, client, runner):
    est = factories.establishment()
    record(est.subject_id, title="未按规定公示卫生许可证")
    ready(client, runner, est)
    page = client.get(f"/portal/establishments/{est.id}/records")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "未按规定公示卫生许可证" in text and "有效" in text


def test_another_establishments_records_are_refused_and_audited(app, client, runner):
    mine = factories.establishment()
    other = factories.establishment(name="别家宾馆")
    record(other.subject_id, title="别家的处罚")
    ready(client, runner, mine)
    response = client.get(f"/portal/establishments/{other.id}/records")
    assert response.status_code == 403 and "别家的处罚" not in response.get_data(as_text=True)
    refused = actions("portal.refused")
    assert len(refused) == 1 and refused[0].entity_id == str(other.id)


def test_pages_need_sign_in(app, client):
    est = factories.establishment()
    response = client.get(f"/portal/establishments/{est.id}/records")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]


def publish(year: int):
    from datetime import datetime

    from supervision.credit.grading import approve, publish as publish_run, run_grading

    run = run_grading(db.session, factories.ACTOR, year=year, now=datetime(year + 1, 1, 20)).run
    approve(db.session, factories.ACTOR, run.id, by="张主任")
    publish_run(db.session, factories.ACTOR, run.id, by="李所长")
    db.session.commit()


def test_my_rating_shows_grade_thresholds_explanation_and_when_it_stops_counting(app, client, runner):
    from datetime import date

    est = factories.establishment()
    record(est.subject_id, "penalty", code="fine", severity="general", arose_on=date(2025, 4, 1), title="罚款五千元")
    publish(2025)
    ready(client, runner, est)
    page = client.get(f"/portal/establishments/{est.id}/rating")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "C</span>" in text and "75 分" in text  # grade and score
    assert "B 级需" in text  # the threshold above
    assert "罚款五千元" in text and "行政处罚·一般：-15 分" in text
    assert "年度起不再计入" in text
    assert "2025 年度：C 级，75 分" in text


def test_without_a_published_grade_the_rating_page_says_so(app, client, runner):
    est = factories.establishment()
    ready(client, runner, est)
    page = client.get(f"/portal/establishments/{est.id}/rating")
    assert page.status_code == 200 and "没有已发布的信用评价" in page.get_data(as_text=True)


def test_another_establishments_rating_is_refused_and_audited(app, client, runner):
    mine = factories.establishment()
    other = factories.establishment(name="别家宾馆")
    ready(client, runner, mine)
    assert client.get(f"/portal/establishments/{other.id}/rating").status_code == 403
    assert [e.entity_id for e in actions("portal.refused")] == [str(other.id)]
