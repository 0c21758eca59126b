"""Benchmark of the yearly grading run: N establishments with 5 credit records each.

For each database (a temporary SQLite file; a scratch PostgreSQL database created on the
server and dropped afterwards) it builds the schema with the migrations, generates the data
inside the database (generate_series on PostgreSQL, a recursive CTE on SQLite: no Python row
loop), and for each size:

- times a bare scan of the same records (one aggregate over credit_records, the floor any
  grading must pay to read its input), and
- times `run_grading` for the whole year (draft run: subjects, points of every record, grades,
  hard rules, 1 grade row per establishment and 1 contribution row per counted record) plus its
  commit,

then prints both, their ratio, the grades per second, and the peak RSS of this process; then
(unless --no-check) times approve + publish (the digest over every grade and contribution) and
`verify_run` (a full recomputation), and fails if verify does not pass. On
PostgreSQL the work is server-side: the temporary bytes the server spilled during the run
(pg_stat_database.temp_bytes) are printed as well.

    python bench/grading.py [--sizes 100000,1000000] [--records-per 5] [--admin-url URL]
                            [--skip-sqlite] [--skip-postgres]

Only 127.0.0.1 is contacted; the scratch databases and files are removed at the end.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DISTRICTS = 20

# One record per j; r = a cheap pseudo-random 0..99 of j decides what the record is.
_R = "(((j * 48271) % 2147483647) % 100)"  # Lehmer's generator, one step
KIND = (f"CASE WHEN j % 10007 = 0 THEN 'penalty' WHEN {_R} < 78 THEN 'inspection' WHEN {_R} < 89 THEN 'penalty' "
        f"WHEN {_R} < 92 THEN 'licensing' WHEN {_R} < 96 THEN 'positive' WHEN {_R} < 98 THEN 'adverse' "
        f"WHEN {_R} < 99 THEN 'dishonesty' ELSE 'bad_practice_points' END")
CODE = (f"CASE WHEN j % 10007 = 0 THEN 'licence_revocation' WHEN {_R} < 78 THEN 'inspection' "
        f"WHEN {_R} < 84 THEN 'warning' WHEN {_R} < 89 THEN 'fine' WHEN {_R} < 92 THEN 'licence_granted' "
        f"WHEN {_R} < 95 THEN 'commitment_kept' WHEN {_R} < 96 THEN 'commendation' "
        f"WHEN {_R} < 98 THEN 'rectification_overdue' WHEN {_R} < 99 THEN 'false_information' ELSE NULL END")
SEVERITY = (f"CASE WHEN j % 10007 = 0 THEN 'serious' WHEN {_R} < 55 THEN 'none' WHEN {_R} < 70 THEN 'minor' "
            f"WHEN {_R} < 76 THEN 'general' WHEN {_R} < 78 THEN 'serious' WHEN {_R} < 84 THEN 'minor' "
            f"WHEN {_R} < 88 THEN 'general' WHEN {_R} < 89 THEN 'serious' WHEN {_R} < 96 THEN 'none' "
            f"WHEN {_R} < 99 THEN 'general' ELSE 'none' END")
CATEGORY = ("CASE i % 5 WHEN 0 THEN 'medical' WHEN 1 THEN 'accommodation' WHEN 2 THEN 'beauty_hairdressing' "
            "WHEN 3 THEN 'swimming' ELSE 'drinking_water' END")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_app(url: str, workdir: Path):
    os.environ["INSTANCE_PATH"] = str(workdir / "instance")
    from supervision.app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "POLICY_DIR": str(workdir / "none")})


def series(pg: bool, start: int, end: int, column: str) -> tuple[str, str]:
    """(WITH prefix, FROM source) producing integers start..end as `column`."""
    if pg:
        return "", f"generate_series(CAST({start} AS BIGINT), {end}) AS {column}"
    return (f"WITH RECURSIVE s({column}) AS (SELECT {start} UNION ALL SELECT {column} + 1 FROM s WHERE {column} < {end}) ",
            "s")


def generate(conn, pg: bool, start: int, end: int, per: int, district_ids: list[int], unit_id: int) -> None:
    """Establishments start..end (1-based) and their records, inside the database."""
    d0 = district_ids[0]
    now = "now()" if pg else "datetime('now')"
    w, src = series(pg, start, end, "i")
    conn.execute(text(f"{w}INSERT INTO credit_subjects (id, kind, created_at) SELECT i, 'establishment', {now} FROM {src}"))
    lpad = "lpad(CAST(i AS TEXT), 13, '0')" if pg else "substr('0000000000000' || i, -13, 13)"
    conn.execute(text(
        f"{w}INSERT INTO establishments (id, subject_id, credit_code, name, category_code, address, jurisdiction_id, "
        "legal_representative, status, created_at, updated_at) "
        f"SELECT i, i, 'BENCH' || {lpad}, '测试单位' || i, {CATEGORY}, '江苏省南京市测试路' || i || '号', "
        f"{d0} + (i % {DISTRICTS}), '王某', CASE WHEN i % 50 = 0 THEN 'closed' ELSE 'active' END, {now}, {now} FROM {src}"))
    w, src = series(pg, (start - 1) * per + 1, end * per, "j")
    arose = ("(DATE '2023-01-01' + CAST((j * 31) % 1095 AS INTEGER))" if pg
             else "date('2023-01-01', '+' || ((j * 31) % 1095) || ' days')")
    entered = (f"(CAST({arose} AS TIMESTAMP) + INTERVAL '1 day 9 hours')" if pg
               else f"strftime('%Y-%m-%d %H:%M:%f000', {arose}, '+1 day', '+9 hours')")
    conn.execute(text(
        f"{w}INSERT INTO credit_records (id, subject_id, kind, code, severity, status, title, practice_points, "
        "source_type, source_ref, producing_unit_id, channel, arose_on, entered_at, details) "
        f"SELECT j, (j + {per - 1}) / {per}, {KIND}, {CODE}, {SEVERITY}, 'effective', '记录' || j, "
        f"CASE WHEN {_R} >= 99 THEN 2 ELSE NULL END, 'bench', CAST(j AS TEXT), {unit_id}, 'system', {arose}, {entered}, "
        f"'{{}}' FROM {src}"))


def setup_jurisdictions(conn) -> tuple[list[int], int]:
    conn.execute(text("INSERT INTO jurisdictions (id, code, name, level, parent_id) VALUES "
                      "(1, '320000', '江苏省', 'province', NULL), (2, '320100', '南京市', 'city', 1)"))
    ids = []
    for k in range(DISTRICTS):
        conn.execute(text("INSERT INTO jurisdictions (id, code, name, level, parent_id) VALUES (:id, :code, :name, 'district', 2)"),
                     {"id": 3 + k, "code": f"3201{k + 2:02d}", "name": f"第{k + 1}区"})
        ids.append(3 + k)
    return ids, 2


def bench_database(label: str, url: str, sizes: list[int], per: int, workdir: Path, check: bool) -> list[dict]:
    from flask_migrate import upgrade

    from supervision import audit
    from supervision.credit.grading import run_grading
    from supervision.extensions import db

    pg = url.startswith("postgresql")
    app = make_app(url, workdir)
    results = []
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.begin() as conn:
            district_ids, unit = setup_jurisdictions(conn)
        done = 0
        for n in sizes:
            started = time.perf_counter()
            with db.engine.begin() as conn:
                if pg:
                    conn.execute(text("SET session_replication_role = replica"))  # skip FK triggers while generating
                step = 250_000
                for a in range(done + 1, n + 1, step):
                    generate(conn, pg, a, min(a + step - 1, n), per, district_ids, unit)
                if pg:
                    conn.execute(text("SET session_replication_role = DEFAULT"))
            if pg:
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            else:
                with db.engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            done = n
            generated = time.perf_counter() - started
            with db.engine.begin() as conn:  # the previous size's run, outside the timing
                _unfreeze(conn, pg)
                for table in ("grade_contributions", "grades", "grading_run_policies", "grading_runs"):
                    conn.execute(text(f"DELETE FROM {table}"))

            started = time.perf_counter()
            with db.engine.connect() as conn:
                scanned = conn.execute(text(
                    "SELECT COUNT(*), SUM(CASE WHEN severity = 'serious' THEN 1 ELSE 0 END) FROM credit_records "
                    "WHERE status IN ('effective', 'under_objection') AND superseded_at IS NULL")).one()
            scan = time.perf_counter() - started

            temp_before = _temp_bytes(db) if pg else 0
            started = time.perf_counter()
            result = run_grading(db.session, audit.Actor.system("bench"), year=2025, policy_roots=[],
                                 now=datetime(2026, 1, 20, 2, 0))
            db.session.commit()
            grading = time.perf_counter() - started
            temp = (_temp_bytes(db) - temp_before) if pg else 0
            contributions = db.session.execute(text("SELECT COUNT(*) FROM grade_contributions")).scalar_one()
            publish_s = verify_s = float("nan")
            if check:
                from supervision.credit.grading import approve, publish
                from supervision.credit.grading.verify import verify_run

                started = time.perf_counter()
                approve(db.session, audit.Actor.system("bench"), result.run.id, by="bench")
                publish(db.session, audit.Actor.system("bench"), result.run.id, by="bench")
                db.session.commit()
                publish_s = time.perf_counter() - started
                started = time.perf_counter()
                report = verify_run(db.session, result.run.id)
                db.session.rollback()
                verify_s = time.perf_counter() - started
                if not report.ok:
                    sys.exit(f"verify failed: {report.problems} {report.differences[:5]}")
            db.session.remove()
            row = {"database": label, "establishments": n, "records": scanned[0], "generate_s": generated,
                   "scan_s": scan, "grading_s": grading, "ratio": grading / scan if scan else float("nan"),
                   "graded": sum(result.counts.values()), "contributions": contributions, "counts": result.counts,
                   "peak_rss_mb": peak_rss_mb(), "server_temp_mb": temp / 2 ** 20, "publish_s": publish_s,
                   "verify_s": verify_s}
            results.append(row)
            print(f"{label:10s} n={n:>9,} records={row['records']:>10,} generate={generated:7.1f}s "
                  f"scan={scan:6.2f}s grading={grading:7.1f}s ratio={row['ratio']:6.1f} "
                  f"grades/s={row['graded'] / grading:>9,.0f} contributions={contributions:,} "
                  f"peak_rss={row['peak_rss_mb']:.0f}MB" + (f" server_temp={row['server_temp_mb']:.0f}MB" if pg else "")
                  + (f" approve+publish={publish_s:.1f}s verify={verify_s:.1f}s" if check else ""), flush=True)
            print(f"{'':10s} counts {result.counts}", flush=True)
        db.engine.dispose()
    return results


def _unfreeze(conn, pg: bool) -> None:
    """The immutability triggers refuse to delete a published run; the bench drops them for its
    scratch database only."""
    if pg:
        for table in ("grading_runs", "grades", "grade_contributions"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}"))
    else:
        for name in ("grading_runs_frozen_update", "grading_runs_frozen_delete", "grades_frozen_update",
                     "grades_frozen_delete", "grade_contributions_frozen_update", "grade_contributions_frozen_delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def _temp_bytes(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--records-per", type=int, default=5)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-check", action="store_true", help="skip timing publish (digest) and verify")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results = []
    with tempfile.TemporaryDirectory(prefix="hs_grading_bench_") as tmp:
        workdir = Path(tmp)
        if not args.skip_postgres:
            admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            name = f"hs_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
                results += bench_database("postgresql", url, sizes, args.records_per, workdir, not args.no_check)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        if not args.skip_sqlite:
            results += bench_database("sqlite", f"sqlite:///{workdir / 'bench.db'}", sizes, args.records_per, workdir,
                                      not args.no_check)
    print()
    print("| database | establishments | records | bare scan | grading run | ratio | peak RSS | approve+publish | verify |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['database']} | {r['establishments']:,} | {r['records']:,} | {r['scan_s']:.2f} s | "
              f"{r['grading_s']:.1f} s | {r['ratio']:.1f} | {r['peak_rss_mb']:.0f} MB | {r['publish_s']:.1f} s | "
              f"{r['verify_s']:.1f} s |")
    by_db = {}
    for r in results:
        by_db.setdefault(r["database"], []).append(r)
    for label, rows in by_db.items():
        if len(rows) >= 2:
            a, b = rows[0], rows[-1]
            growth = (b["grading_s"] / a["grading_s"]) / (b["establishments"] / a["establishments"])
            print(f"{label}: time x{b['grading_s'] / a['grading_s']:.1f} for x{b['establishments'] / a['establishments']:.0f} "
                  f"establishments (per-establishment cost ratio {growth:.2f}; <= 1 means no worse than linear)")


if __name__ == "__main__":
    main()
