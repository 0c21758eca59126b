"""Benchmark of a double-random draw from 1,000,000 establishments on PostgreSQL.

A scratch database is created on the local server (and dropped at the end), migrated, and
filled inside the server with INSERT … SELECT generate_series: 20 districts of 50 grids each,
N establishments spread over the grids (2 % closed), one published grading run giving 95 % of
them a grade (A 20 %, B 45 %, C 25 %, D 8 %, E 2 %; 5 % not graded), and an inspector
directory of 3,000 inspectors, three per grid, all with valid certificates.

In the same run it times:

- `bare`: a bare SELECT of the same candidate rows (id, grid, district of every establishment
  that is not closed in the plan's scope), fetched into Python: the floor of any draw;
- `compute`: `sampling.service.compute` — the candidates with their current grade (joined in
  the database) and high-risk flags, the strata, the SHA-256 sort keys, the coverage floor and
  the inspector pairing of every target, nothing written;
- `draw`: `perform_draw` as `supervision draw run` runs it after the seed is committed
  (compute, then storing the gzipped inputs, every target row and the chain entry, committed),
  without creating the tasks;

and prints the times and their ratios to `bare`. Then it runs `verify` on the draw and, with
`--tasks`, creates the drawn pairs' tasks as `supervision draw run` does (one per paired target,
each chained), timed with its commit.

    python bench/draw.py [--establishments 1000000] [--inspectors-per-grid 3] [--tasks] [--admin-url URL]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from supervision.credit.grading import current  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DISTRICTS, GRIDS_PER_DISTRICT = 20, 50
GRIDS = DISTRICTS * GRIDS_PER_DISTRICT
_R = "(((i * 48271) % 2147483647) % 100)"
GRADE = (f"CASE WHEN {_R} < 20 THEN 'A' WHEN {_R} < 65 THEN 'B' WHEN {_R} < 90 THEN 'C' "
         f"WHEN {_R} < 98 THEN 'D' ELSE 'E' END")

PLAN = """
code = "BENCH-1"
title = "基准测试抽查计划"
specialty = "公共场所卫生"
[period]
start = 2027-03-01
end = 2027-06-30
[scope]
jurisdictions = ["320100"]
[items]
matters = ["卫生许可情况"]
checklist = "accommodation"
"""


def generate(conn, n: int, per_grid: int) -> None:
    conn.execute(text("INSERT INTO jurisdictions (id, code, name, level, parent_id) VALUES "
                      "(1, '320000', '江苏省', 'province', NULL), (2, '320100', '南京市', 'city', 1)"))
    conn.execute(text(f"INSERT INTO jurisdictions (id, code, name, level, parent_id) SELECT 2 + d, "
                      f"'3201' || lpad(CAST(d + 1 AS TEXT), 2, '0'), '第' || d || '区', 'district', 2 "
                      f"FROM generate_series(1, {DISTRICTS}) AS d"))
    # grid g (1-based) lies in district 3 + (g - 1) / GRIDS_PER_DISTRICT
    conn.execute(text(f"INSERT INTO grids (id, code, name, jurisdiction_id) SELECT g, 'G' || g, '网格' || g, "
                      f"3 + (g - 1) / {GRIDS_PER_DISTRICT} FROM generate_series(1, {GRIDS}) AS g"))
    conn.execute(text("SET session_replication_role = replica"))
    for start in range(1, n + 1, 250_000):
        end = min(start + 249_999, n)
        src = f"generate_series(CAST({start} AS BIGINT), {end}) AS i"
        conn.execute(text(f"INSERT INTO credit_subjects (id, kind, created_at) SELECT i, 'establishment', now() FROM {src}"))
        conn.execute(text(
            "INSERT INTO establishments (id, subject_id, credit_code, name, category_code, address, jurisdiction_id, "
            "grid_id, legal_representative, status, created_at, updated_at) "
            "SELECT i, i, 'BENCH' || lpad(CAST(i AS TEXT), 13, '0'), '测试单位' || i, 'accommodation', '测试路' || i, "
            f"3 + ((i % {GRIDS}) / {GRIDS_PER_DISTRICT}), 1 + (i % {GRIDS}), '王某', "
            f"CASE WHEN i % 50 = 0 THEN 'closed' ELSE 'active' END, now(), now() FROM {src}"))
        conn.execute(text(
            "INSERT INTO grades (run_id, subject_id, establishment_id, jurisdiction_id, category_code, score, grade, policy_id) "
            f"SELECT 1, i, i, 3 + ((i % {GRIDS}) / {GRIDS_PER_DISTRICT}), 'accommodation', 80, {GRADE}, 0 "
            f"FROM {src} WHERE i % 20 <> 7"))
    conn.execute(text("INSERT INTO grading_runs (id, year, jurisdiction_id, status, data_as_of, counts, created_by, "
                      "created_at, published_at) VALUES (1, 2026, NULL, 'published', now(), '{}', 'bench', now(), now())"))
    current.refresh(Session(bind=conn), [1])  # the current grades, as publishing the run keeps them
    m = GRIDS * per_grid
    conn.execute(text(
        "INSERT INTO inspectors (id, badge_no, name, certificate_no, certificate_valid_from, certificate_valid_until, "
        "jurisdiction_id, active, created_at, updated_at) SELECT k, 'B' || k, '检查员' || k, 'CERT' || k, "
        f"DATE '2024-01-01', DATE '2030-12-31', 3 + ((k - 1) % {GRIDS}) / {GRIDS_PER_DISTRICT}, true, now(), now() "
        f"FROM generate_series(1, {m}) AS k"))
    conn.execute(text(f"INSERT INTO inspector_grids (inspector_id, grid_id) SELECT k, 1 + (k - 1) % {GRIDS} "
                      f"FROM generate_series(1, {m}) AS k"))
    conn.execute(text("SET session_replication_role = DEFAULT"))
    for table in ("jurisdictions", "grids", "credit_subjects", "establishments", "inspectors"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--establishments", type=int, default=1_000_000)
    parser.add_argument("--inspectors-per-grid", type=int, default=3)
    parser.add_argument("--tasks", action="store_true", help="also time creating the tasks of the drawn pairs")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of `compute` and of the draw")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", DEFAULT_ADMIN_URL))
    args = parser.parse_args()

    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_draw_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(url, Path(tmp), args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, workdir: Path, args) -> None:
    os.environ["INSTANCE_PATH"] = str(workdir / "instance")
    from flask_migrate import upgrade

    from supervision import audit
    from supervision.app import create_app
    from supervision.checklists import service as checklists
    from supervision.extensions import db
    from supervision.sampling import service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "POLICY_DIR": str(workdir / "none")})
    actor = audit.Actor.system("bench")
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        started = time.perf_counter()
        with db.engine.begin() as conn:
            generate(conn, args.establishments, args.inspectors_per_grid)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        checklists.load_directory(db.session, actor)
        db.session.commit()
        print(f"generated {args.establishments:,} establishments, {GRIDS * args.inspectors_per_grid:,} inspectors "
              f"in {time.perf_counter() - started:.1f}s", flush=True)

        draw = service.seed_draw(db.session, actor, PLAN)
        db.session.commit()
        draw_id = draw.id
        plan = service.plan_of(draw)
        from supervision.sampling import candidates as reading

        scope = reading.resolve_scope(db.session, plan)
        db.session.rollback()

        started = time.perf_counter()
        with db.engine.connect() as conn:
            ids = ",".join(str(i) for i in scope.jurisdiction_ids)
            bare_rows = conn.execute(text(
                f"SELECT id, grid_id, jurisdiction_id FROM establishments WHERE status <> 'closed' "
                f"AND jurisdiction_id IN ({ids}) ORDER BY id")).all()
        bare = time.perf_counter() - started
        del bare_rows

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        outcome, inputs = service.compute(db.session, db.session.get(service.Draw, draw_id))
        compute = time.perf_counter() - started
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        db.session.rollback()
        del outcome, inputs

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        service.perform_draw(db.session, actor, draw_id, create_tasks=False)
        db.session.commit()
        total = time.perf_counter() - started
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        summary = db.session.get(service.Draw, draw_id).summary

        started = time.perf_counter()
        report = service.verify(db.session, draw_id)
        verify = time.perf_counter() - started
        db.session.rollback()

        p = summary["pairing"]
        print(f"candidates={summary['candidates']:,} drawn={summary['drawn']:,} coverage={summary['coverage']:.3f} "
              f"paired={p['targets_paired']:,} without_pair={p['targets_without_pair']:,} "
              f"load={p['load_min']}-{p['load_max']} largest_grid_spread={p['largest_grid_spread']}")
        print({s: r["drawn"] for s, r in summary["strata"].items()})
        print(f"bare SELECT          {bare:6.2f}s")
        print(f"compute (no writes)  {compute:6.2f}s  ratio {compute / bare:5.1f}")
        print(f"draw (+store+commit) {total:6.2f}s  ratio {total / bare:5.1f}  target < 5 s: "
              f"{'met' if total < 5 else 'NOT met'}")
        print(f"verify               {verify:6.2f}s  {'ok' if report.ok else report.problems[:5]}")
        if args.tasks:
            started = time.perf_counter()
            draw = db.session.get(service.Draw, draw_id)
            service.create_random_tasks(db.session, actor, draw, service.plan_of(draw))
            db.session.commit()
            print(f"tasks (+chain+commit) {time.perf_counter() - started:6.2f}s  for {p['targets_paired']:,} paired targets")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
