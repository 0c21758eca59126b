"""The credit commitment letter (信用承诺书, issue 19): read and signed in the portal by the
legal representative, exactly the text shown; never editable; shown on the public plate page at
once and carried to terminals by the sync. All through HTTP (SQL only to prove immutability)."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from supervision.audit.models import AuditEntry
from supervision.commitments.models import CommitmentLetter
from supervision.extensions import db
from tests import factories
from tests.public_support import csrf_token, token_of
from tests.test_portal_accounts import ready

LEGAL_REPRESENTATIVE = "王建国"  # tests.factories.establishment_input


def page(client, establishment) -> str:
    return client.get(f"/portal/establishments/{establishment.id}/commitment").get_data(as_text=True)


def shown_hash(html: str) -> str:
    return re.search(r'name="text_sha256" value="([0-9a-f]{64})"', html).group(1)


def sign(client, establishment, *, name=LEGAL_REPRESENTATIVE, pledge=True, text_hash=None):
    html = page(client, establishment)
    data = {"csrf_token": csrf_token(html), "signer_name": name, "text_sha256": text_hash or shown_hash(html)}
    if pledge:
        data["pledge"] = "yes"
    return client.post(f"/portal/establishments/{establishment.id}/commitment", data=data)


def signatures() -> list[CommitmentLetter]:
    return list(db.session.execute(select(CommitmentLetter)).scalars())


@pytest.fixture
def signed_in(client, runner, field):
    ready(client, runner, field.establishment)
    return field.establishment


def test_the_letter_shows_the_establishment_name_version_and_a_sign_form(client, signed_in):
    html = page(client, signed_in)
    assert signed_in.name in html and signed_in.credit_code in html and "2020版" in html
    assert "违背上述承诺" in html and 'name="pledge"' in html and "{name}" not in html


def test_signing_keeps_name_time_exact_text_and_its_hash(client, signed_in):
    html = page(client, signed_in)
    response = sign(client, signed_in, name=" 王　建国 ".replace("　", ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    row = signatures()[0]
    assert row.signer_name == LEGAL_REPRESENTATIVE and row.letter_version == "2020版"
    assert row.text_sha256 == hashlib.sha256(row.text.encode("utf-8")).hexdigest() == shown_hash(html)
    assert signed_in.name in row.text and row.establishment_id == signed_in.id and row.signed_at is not None
    after = page(client, signed_in)
    assert row.text_sha256 in after and 'name="pledge"' not in after  # signed: no form for the same version
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "commitment.sign")).scalar_one()
    assert entry.entity_type == "commitment_letters" and entry.entity_id == str(row.id)


def test_a_name_other_than_the_legal_representative_is_refused(client, signed_in):
    response = sign(client, signed_in, name="李四")
    assert response.status_code == 400 and "法定代表人" in response.get_data(as_text=True)
    assert "李四" in response.get_data(as_text=True)  # the input is kept
    assert signatures() == []


def test_signing_without_the_pledge_is_refused(client, signed_in):
    response = sign(client, signed_in, pledge=False)
    assert response.status_code == 400 and "请阅读承诺书并勾选承诺" in response.get_data(as_text=True)
    assert signatures() == []


def test_a_hash_of_another_text_is_refused_as_text_changed(client, signed_in):
    response = sign(client, signed_in, text_hash="0" * 64)
    assert response.status_code == 400 and "承诺书文本已更新，请重新阅读" in response.get_data(as_text=True)
    assert signatures() == []


def test_signing_the_same_version_twice_is_refused(client, signed_in):
    html = page(client, signed_in)
    assert sign(client, signed_in).status_code == 302
    again = client.post(f"/portal/establishments/{signed_in.id}/commitment", data={
        "csrf_token": csrf_token(html), "signer_name": LEGAL_REPRESENTATIVE, "pledge": "yes",
        "text_sha256": shown_hash(html)})
    assert again.status_code == 400 and "已签署当前版本" in again.get_data(as_text=True)
    assert len(signatures()) == 1


def test_a_newer_letter_version_can_be_signed_again(client, signed_in, app, tmp_path, monkeypatch):
    assert sign(client, signed_in).status_code == 302
    folder = tmp_path / "commitment_letter" / "default"
    folder.mkdir(parents=True)
    (folder / "2024-01-01.toml").write_text(
        'version = "2024版"\ntitle = "信用承诺书"\ntext = "本单位 {name} 承诺守法经营，违背承诺自愿接受惩戒。"\n',
        encoding="utf-8")
    monkeypatch.setitem(app.config, "POLICY_DIR", str(tmp_path))
    html = page(client, signed_in)
    assert "请重新签署" in html and "2024版" in html
    assert sign(client, signed_in).status_code == 302
    assert [s.letter_version for s in signatures()] == ["2020版", "2024版"]


@pytest.mark.parametrize("statement", [
    "UPDATE commitment_letters SET signer_name = '李四'",
    "UPDATE commitment_letters SET text = 'x', text_sha256 = 'y'",
    "DELETE FROM commitment_letters",
])
def test_a_signed_letter_cannot_be_changed_or_deleted_with_sql(client, signed_in, statement):
    assert sign(client, signed_in).status_code == 302
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    db.session.expire_all()
    assert signatures()[0].signer_name == LEGAL_REPRESENTATIVE


def test_the_plate_page_shows_the_signed_letter_on_the_very_next_request(client, signed_in):
    url = f"/P/{token_of(signed_in)}"
    before = client.get(url)
    assert client.get(url).get_data() == before.get_data()  # cached
    assert "信用承诺" in before.get_data(as_text=True) and "尚未签署" in before.get_data(as_text=True)
    assert sign(client, signed_in).status_code == 302
    row = signatures()[0]
    after = client.get(url)
    html = after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "2020版" in html and LEGAL_REPRESENTATIVE in html and row.text_sha256[:16] in html
    assert "<details>" in html and "违背上述承诺" in html
    assert len(after.get_data()) < 30 * 1024


def test_bootstrap_carries_the_current_signature(client, signed_in, field):
    assert sign(client, signed_in).status_code == 302
    row = signatures()[0]
    body = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()
    [carried] = body["commitments"]
    assert carried["establishment_id"] == signed_in.id and carried["version"] == "2020版"
    assert carried["signer_name"] == LEGAL_REPRESENTATIVE and carried["text_sha256"] == row.text_sha256
    assert carried["text"] == row.text and carried["signed_at"]


def test_delta_sync_carries_a_new_signature_in_the_device_grids_only(client, runner, field):
    cursor = client.get("/api/v1/sync/bootstrap", headers=field.headers).get_json()["cursor"]
    ready(client, runner, field.other_establishment)  # not in the device's grids
    assert sign(client, field.other_establishment).status_code == 302
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert changes["commitments"] == []
    client.post("/portal/logout", data={"csrf_token": csrf_token(client.get("/portal/").get_data(as_text=True))})
    ready(client, runner, field.establishment)
    assert sign(client, field.establishment).status_code == 302
    changes = client.get(f"/api/v1/sync/changes?cursor={cursor}", headers=field.headers).get_json()
    assert [c["establishment_id"] for c in changes["commitments"]] == [field.establishment.id]


def test_signing_for_another_establishment_is_refused_and_audited(client, runner, field):
    ready(client, runner, field.establishment)
    other = field.other_establishment
    assert client.get(f"/portal/establishments/{other.id}/commitment").status_code == 403
    response = client.post(f"/portal/establishments/{other.id}/commitment", data={
        "csrf_token": csrf_token(page(client, field.establishment)), "signer_name": LEGAL_REPRESENTATIVE,
        "pledge": "yes", "text_sha256": "0" * 64})
    assert response.status_code == 403 and signatures() == []
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "portal.refused")).scalars().all()
    assert [e.entity_id for e in refused] == [str(other.id)] * 2
    assert "sign_commitment" in refused[1].payload


def test_signing_without_a_csrf_token_is_refused(client, signed_in):
    html = page(client, signed_in)
    response = client.post(f"/portal/establishments/{signed_in.id}/commitment", data={
        "signer_name": LEGAL_REPRESENTATIVE, "pledge": "yes", "text_sha256": shown_hash(html)})
    assert response.status_code == 400 and signatures() == []


def test_the_service_refuses_a_non_establishment_actor(app, field):
    from supervision.commitments import service
    from supervision.errors import Forbidden

    with pytest.raises(Forbidden):
        service.sign(db.session, factories.ACTOR, field.establishment.id, signer_name=LEGAL_REPRESENTATIVE,
                     pledge=True, text_sha256="0" * 64)


@pytest.mark.parametrize("body, key, reason", [
    ('version = "v"\ntitle = "信用承诺书"\ntext = "本单位承诺守法经营。"\n', "text", "{name}"),
    ('version = "v"\ntitle = "信用承诺书"\ntext = "本单位 {name}（{address}）承诺。"\n', "text", "未知的占位符"),
    ('title = "信用承诺书"\ntext = "本单位 {name} 承诺。"\n', "version", "缺少必填项"),
])
def test_an_invalid_letter_policy_is_refused_on_load_naming_file_and_key(tmp_path, body, key, reason):
    from supervision import policy
    from supervision.commitments import letter  # noqa: F401  (registers the kind)

    folder = tmp_path / "commitment_letter" / "default"
    folder.mkdir(parents=True)
    (folder / "2025-01-01.toml").write_text(body, encoding="utf-8")
    with pytest.raises(policy.PolicyInvalid) as refused:
        policy.PolicySet.load("commitment_letter", [tmp_path])
    assert refused.value.key == key and reason in refused.value.reason and "2025-01-01.toml" in refused.value.message


def test_the_model_metadata_carries_the_same_triggers(tmp_path):
    """A schema built from the models (a tool's way, never the app's) is just as unchangeable."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'metadata.db'}")
    db.metadata.create_all(engine)
    with engine.connect() as connection:
        names = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    engine.dispose()
    assert {"commitment_letters_no_update", "commitment_letters_no_delete"} <= names
