"""The audit chain: every write is chained, and tampering is found and named."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from supervision import audit
from supervision.audit.models import AuditEntry
from supervision.extensions import db
from tests import factories


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_registry_writes_are_chained_with_before_and_after(app):
    j = factories.jurisdiction()
    est = factories.establishment(grid=None)
    db.session.commit()
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    actions = [e.action for e in entries]
    # The district's city and province are created on first use, then the district itself.
    assert actions == ["jurisdiction.create"] * 3 + ["plate.issue", "establishment.create"]
    assert entries[-1].entity_id == str(est.id)
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    assert j.id is not None


def test_failed_transaction_leaves_no_audit_entry(app):
    factories.jurisdiction()
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == 0


def test_savepoint_rollback_drops_its_audit_entries(app):
    district = factories.jurisdiction()
    kept = [district.parent.parent, district.parent, district]
    with pytest.raises(RuntimeError):
        with audit.savepoint(db.session):
            factories.jurisdiction(code="320104", name="秦淮区")
            raise RuntimeError("refused")
    db.session.commit()
    assert [e.entity_id for e in db.session.execute(select(AuditEntry)).scalars()] == [str(j.id) for j in kept]


def test_verify_passes_on_untouched_chain(app, runner):
    factories.jurisdiction()
    factories.establishment()
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output


def test_database_refuses_update_of_audit_row(app):
    factories.jurisdiction()
    db.session.commit()
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE audit_entries SET action = 'x' WHERE seq = 1"))


def _disable_append_only_guard():
    """What someone with database rights could do before editing a row by hand."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.session.execute(text("DROP TRIGGER audit_entries_no_delete"))


@pytest.fixture
def tamper(app, runner):
    """A committed chain of five entries and a DBA who has switched the append-only guard off:
    `tamper(sql)` runs the hand edit and returns what `audit verify` says."""
    factories.jurisdiction()
    factories.establishment()
    db.session.commit()
    _disable_append_only_guard()

    def run(sql):
        db.session.execute(text(sql))
        result = _verify(runner)
        assert result.exit_code == 1
        return result.output

    return run


def test_hand_edited_payload_is_named_by_verify(tamper):
    output = tamper("UPDATE audit_entries SET payload = replace(payload, '玄武区', '鼓楼区') WHERE seq = 3")
    assert "audit entry 3: content edited" in output


def test_hand_edited_column_is_named_by_verify(tamper):
    output = tamper("UPDATE audit_entries SET actor_ref = 'cli:someone-else' WHERE seq = 2")
    assert "audit entry 2: column actor_ref edited" in output


def test_deleted_row_is_named_by_verify(tamper):
    assert "audit entry 2: entries 2 deleted" in tamper("DELETE FROM audit_entries WHERE seq = 2")


def test_rows_deleted_from_the_end_are_named_by_verify(tamper):
    assert "entries 5–5 deleted from the end" in tamper("DELETE FROM audit_entries WHERE seq = 5")


def test_edited_chain_head_is_named_by_verify(tamper):
    assert "chain head edited" in tamper("UPDATE audit_head SET last_hash = 'x', last_seq = 4")


def test_concurrent_commits_extend_one_linear_chain(fresh_app):
    """Writers on separate connections each take their turn at the head; no fork, no gap."""
    import threading

    from sqlalchemy.orm import Session

    errors = []
    engine = db.engine

    def write(n):
        try:
            with Session(engine) as session:
                for i in range(5):
                    audit.record(session, audit.Actor.system(f"t{n}"), "test.write", entity_type="test", entity_id=f"{n}-{i}")
                    session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    count, problems = audit.verify_chain(db.session)
    assert (count, problems) == (20, [])
