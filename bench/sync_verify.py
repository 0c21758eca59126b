"""After a run: compare what the terminals generated with what the database and the file
store hold (not through the API)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.sync_field import app_config, sha256_hex
from bench.sync_terminal import DeviceReport


@dataclass
class Verdict:
    ok: bool
    lines: list[str]
    lost: int
    doubled: int


def verify(database_url: str, attachment_dir: Path, uuids: list[str], files: dict[str, int],
           reports: list[DeviceReport]) -> Verdict:
    """Compare what the devices generated with what the database and the file store hold."""
    from sqlalchemy import func, select

    from supervision import audit
    from supervision.app import create_app
    from supervision.audit.models import AccessLogEntry, AuditEntry
    from supervision.credit.models import CreditRecord
    from supervision.extensions import db
    from supervision.inspections.attachments import AttachmentStore
    from supervision.inspections.models import Attachment, Inspection, ManifestEntry

    lines, ok = [], True

    def check(condition: bool, text: str) -> None:
        nonlocal ok
        ok &= bool(condition)
        lines.append(f"  {'ok  ' if condition else 'FAIL'} {text}")

    app = create_app(app_config(database_url, attachment_dir))
    with app.app_context():
        session = db.session
        expected = set(uuids)
        held = dict(session.execute(select(Inspection.uuid, Inspection.status)).all())
        lost = len(expected - set(held))
        extra = len(set(held) - expected)
        check(len(uuids) == len(expected), f"generated uuids are distinct ({len(uuids)})")
        check(len(held) == len(expected) and lost == 0 and extra == 0,
              f"inspections held {len(held)} = generated {len(expected)} (lost {lost}, unexpected {extra})")
        not_complete = Counter(status for u, status in held.items() if status != "complete")
        check(not not_complete, f"every inspection complete (others: {dict(not_complete) or 'none'})")

        attachment_rows = dict(session.execute(select(Attachment.sha256, Attachment.size)).all())
        missing_files = set(files) - set(attachment_rows)
        check(len(attachment_rows) == len(files) and not missing_files,
              f"attachment rows {len(attachment_rows)} = distinct files {len(files)} (missing {len(missing_files)})")
        wrong_size = [s for s, size in files.items() if attachment_rows.get(s) not in (None, size)]
        check(not wrong_size, f"attachment sizes as sent (wrong: {len(wrong_size)})")

        store = AttachmentStore(attachment_dir)
        bad_on_disk = [s for s in files if not store.has(s) or sha256_hex(store.path_for(s).read_bytes()) != s]
        check(not bad_on_disk, f"every file on disk with its sha256 (bad or absent: {len(bad_on_disk)})")
        stored = [p for p in attachment_dir.rglob("*") if p.is_file() and p.parent.name != "tmp"]
        leftovers = list((attachment_dir / "tmp").glob("*")) if (attachment_dir / "tmp").exists() else []
        check(len(stored) == len(files), f"files in the store {len(stored)} = distinct files {len(files)}")
        check(not leftovers, f"no half-written uploads left in the spool directory ({len(leftovers)})")

        manifest = session.execute(select(func.count()).select_from(ManifestEntry)).scalar_one()
        check(manifest == len(files), f"manifest rows {manifest} = expected {len(files)}")

        actions = Counter(dict(session.execute(
            select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all()))
        check(actions["inspection.submit"] == len(expected),
              f"audit 'inspection.submit' entries {actions['inspection.submit']} = {len(expected)}")
        check(actions["inspection.complete"] == len(expected),
              f"audit 'inspection.complete' entries {actions['inspection.complete']} = {len(expected)}")
        reads = actions["device.read"]
        check(reads == 0, f"no device reads in the hash chain ({reads}); they go to the access log")
        logged = session.execute(select(func.count()).select_from(AccessLogEntry)).scalar_one()
        gets = sum(r.requests[k] for r in reports for k in r.requests if k in ("GET 200",))
        check(logged == gets, f"access log lines {logged} = GETs answered 200 {gets}")
        credit = session.execute(select(func.count()).select_from(CreditRecord)
                                 .where(CreditRecord.source_type == "inspection")).scalar_one()
        check(credit == len(expected), f"inspection credit records {credit} = {len(expected)}")

        checked, problems = audit.verify_chain(session)
        check(not problems, f"audit chain verifies ({checked} entries; problems: {[str(p) for p in problems[:3]]})")
        session.remove()
        db.engine.dispose()

    doubled_201 = sum(1 for r in reports for key, n in r.created_201.items() if n > 1)
    check(doubled_201 == 0, f"no uuid or file was answered 201 (created) twice ({doubled_201})")
    server_errors = sum((Counter({k: n for k, n in r.requests.items() if k.split()[-1].startswith("5")})
                         for r in reports), Counter())
    check(not server_errors, f"no 5xx answers ({dict(server_errors) or 'none'})")
    problems = [p for r in reports for p in r.problems]
    check(not problems, f"no protocol violations seen by the devices ({len(problems)})")
    for problem in problems[:10]:
        lines.append(f"       {problem}")
    doubled = extra + max(0, actions["inspection.submit"] - len(expected)) + doubled_201
    return Verdict(ok, lines, lost + len(missing_files), doubled)
