"""Accounts holding several establishments of one legal person (issue 19): issue, grant, revoke
and show on the command line, and what the signed-in account then sees."""
from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from supervision.accounts.models import AccountSession
from supervision.audit.models import AuditEntry
from supervision.extensions import db
from tests import factories
from tests.test_portal_accounts import change_password, sign_in


@pytest.fixture(autouse=True)
def district(app):
    factories.jurisdiction()


def cli(runner, *args):
    return runner.invoke(args=[str(a) for a in args])


def issue_many(runner, *codes) -> str:
    result = cli(runner, "accounts", "issue", *codes)
    assert result.exit_code == 0, result.output
    return re.search(r"initial password: (\S+)", result.output).group(1)


@pytest.fixture
def chain(app):
    """Two branches and a third establishment of the same legal representative, one of another."""
    hotel = factories.establishment(name="悦来宾馆中山路店", legal_representative="王建国")
    branch = factories.establishment(name="悦来宾馆新街口店", legal_representative="王 建国")
    third = factories.establishment(name="悦来宾馆夫子庙店", legal_representative="王建国")
    stranger = factories.establishment(name="别家浴室", legal_representative="李四")
    db.session.commit()
    return hotel, branch, third, stranger


def test_one_account_for_several_establishments_of_one_legal_person(client, runner, chain):
    hotel, branch, _, _ = chain
    password = issue_many(runner, hotel.credit_code, branch.credit_code)
    sign_in(client, hotel.credit_code, password)
    change_password(client, password)
    home = client.get("/portal/").get_data(as_text=True)
    assert hotel.name in home and branch.name in home
    assert client.get(f"/portal/establishments/{branch.id}/records").status_code == 200


def test_an_establishment_of_another_legal_person_is_refused(runner, chain):
    hotel, _, _, stranger = chain
    result = cli(runner, "accounts", "issue", hotel.credit_code, stranger.credit_code)
    assert result.exit_code == 1 and "法定代表人" in result.output
    assert "account.issue" not in [e.action for e in db.session.execute(select(AuditEntry)).scalars()]


def test_an_establishment_already_held_by_an_account_is_refused(runner, chain):
    hotel, branch, third, _ = chain
    issue_many(runner, hotel.credit_code)
    result = cli(runner, "accounts", "issue", branch.credit_code, hotel.credit_code)
    assert result.exit_code == 1 and "已由账号" in result.output


def test_a_grant_shows_on_the_next_request_and_a_revoke_refuses_it(client, runner, chain):
    hotel, branch, third, _ = chain
    password = issue_many(runner, hotel.credit_code)
    sign_in(client, hotel.credit_code, password)
    change_password(client, password)
    assert client.get(f"/portal/establishments/{third.id}/records").status_code == 403
    assert cli(runner, "accounts", "grant", hotel.credit_code, third.credit_code).exit_code == 0
    assert client.get(f"/portal/establishments/{third.id}/records").status_code == 200
    assert cli(runner, "accounts", "revoke", hotel.credit_code, third.credit_code).exit_code == 0
    assert client.get(f"/portal/establishments/{third.id}/records").status_code == 403


def test_granting_another_legal_persons_establishment_is_refused(runner, chain):
    hotel, _, _, stranger = chain
    issue_many(runner, hotel.credit_code)
    result = cli(runner, "accounts", "grant", hotel.credit_code, stranger.credit_code)
    assert result.exit_code == 1 and "法定代表人" in result.output


def test_the_sign_in_establishment_cannot_be_revoked(runner, chain):
    hotel, branch, _, _ = chain
    issue_many(runner, hotel.credit_code, branch.credit_code)
    result = cli(runner, "accounts", "revoke", hotel.credit_code, hotel.credit_code)
    assert result.exit_code == 1 and "登录" in result.output


def test_show_lists_establishments_lock_and_sessions(client, runner, chain):
    hotel, branch, _, _ = chain
    password = issue_many(runner, hotel.credit_code, branch.credit_code)
    sign_in(client, hotel.credit_code, password)
    out = cli(runner, "accounts", "show", hotel.credit_code).output
    assert hotel.credit_code in out and branch.credit_code in out
    assert "open sessions and API tokens: 1" in out and "locked: no" in out


def test_a_password_change_ends_the_accounts_other_sessions(app, runner, chain):
    hotel, _, _, _ = chain
    password = issue_many(runner, hotel.credit_code)
    first, second = app.test_client(), app.test_client()

    def as_(client, call, *args):
        g.pop("_login_user", None)  # the tests' app context outlives requests; Flask-Login caches the user in g
        return call(client, *args)

    as_(first, sign_in, hotel.credit_code, password)
    as_(second, sign_in, hotel.credit_code, password)
    assert as_(first, change_password, password).status_code == 302
    assert as_(first, lambda c: c.get("/portal/")).status_code == 200
    assert as_(second, lambda c: c.get("/portal/")).status_code == 302  # back to the sign-in page
    live = db.session.execute(select(AccountSession).where(AccountSession.revoked_at.is_(None))).scalars().all()
    assert len(live) == 1
