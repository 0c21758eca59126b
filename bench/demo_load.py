"""Benchmark of `supervision demo`: how long loading N establishments takes on SQLite and on
PostgreSQL, and how that compares with only generating the same rows in Python.

For each database it makes a scratch database (a temporary SQLite file; a PostgreSQL database
created on the server and dropped afterwards), runs `supervision init` and then
`supervision demo --establishments N --seed S` as a subprocess, and measures the wall time of
the demo command. It then counts the rows in the database and prints rows per second.

The baseline, measured in the same run, is the generator alone: the same seed and N turned into
row dicts in this process with no database at all. The ratio "load time / generation time" says
how much the database adds on top of Python's share, independently of how fast this machine is
today.

    python bench/demo_load.py [--establishments N] [--seed S] [--admin-url URL]
                              [--skip-sqlite] [--skip-postgres]

Only 127.0.0.1 is contacted; the scratch databases and files are removed at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TABLES = ("jurisdictions", "grids", "inspectors", "inspector_grids", "credit_subjects", "establishments",
          "licences", "plate_tokens")


def supervision_command() -> list[str]:
    """The installed console script next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "supervision"
    found = str(beside) if beside.exists() else shutil.which("supervision")
    if not found:
        sys.exit("the `supervision` command is not installed (pip install -e .)")
    return [found]


def generation_baseline(n: int, seed: int) -> tuple[float, int]:
    """Seconds to generate n establishments with their children in Python only, and how many
    rows that made."""
    from supervision.demo import generate as g

    started = time.perf_counter()
    rng = random.Random(f"demo:{seed}:1")
    pools = g.NamePools.build(rng.getrandbits(32))
    districts = [g.DistrictRef(spec, i + 1, list(range(i * 10 + 1, i * 10 + 1 + spec.grids)))
                 for i, spec in enumerate(g.DISTRICTS)]
    maker = g.EstablishmentMaker(rng, pools, districts, date.today(), datetime.now(), g.Taken())
    rows = 0
    done, licence_id = 0, 1
    while done < n:
        batch = g.Batch()
        size = min(g.DEFAULT_BATCH_SIZE, n - done)
        for i in range(size):
            licence_id += maker.add(batch, done + i + 1, done + i + 1, done + i + 1, licence_id)
        rows += len(batch.subjects) + len(batch.establishments) + len(batch.licences) + len(batch.plates)
        done += size
    return time.perf_counter() - started, rows


def run_demo(database_url: str, n: int, seed: int, workdir: Path) -> float:
    env = dict(os.environ, DATABASE_URL=database_url, INSTANCE_PATH=str(workdir / "instance"))
    command = supervision_command()
    subprocess.run(command + ["init"], env=env, check=True, capture_output=True, cwd=workdir)
    started = time.perf_counter()
    result = subprocess.run(command + ["demo", "--establishments", str(n), "--seed", str(seed)],
                            env=env, capture_output=True, text=True, cwd=workdir)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"demo failed on {database_url}:\n{result.stdout}\n{result.stderr}")
    print("    " + "\n    ".join(line for line in result.stdout.splitlines() if line.startswith(("created", "took"))))
    verify = subprocess.run(command + ["audit", "verify"], env=env, capture_output=True, text=True, cwd=workdir)
    print(f"    {(verify.stdout or verify.stderr).strip()}")
    return seconds


def count_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return sum(conn.execute(select(func.count()).select_from(text(t))).scalar() for t in TABLES)
    finally:
        engine.dispose()


def report(label: str, n: int, seconds: float, rows: int, baseline: float) -> None:
    print(f"  {label:<10} {seconds:8.1f} s  {n / seconds:10,.0f} establishments/s  {rows / seconds:10,.0f} rows/s"
          f"  ratio to generation alone {seconds / baseline:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", "-n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="a PostgreSQL URL allowed to create databases")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    n = args.establishments

    print(f"demo load of {n:,} establishments (seed {args.seed})")
    baseline, baseline_rows = generation_baseline(n, args.seed)
    print(f"  baseline: generating {baseline_rows:,} rows in Python takes {baseline:.1f} s "
          f"({baseline_rows / baseline:,.0f} rows/s)")
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="hs_demo_bench_"))
    try:
        if not args.skip_sqlite:
            url = f"sqlite:///{workdir / 'demo.db'}"
            print("  SQLite:")
            seconds = run_demo(url, n, args.seed, workdir)
            results.append(("SQLite", seconds, count_rows(url)))
        if not args.skip_postgres:
            name = f"hs_demo_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
            try:
                print(f"  PostgreSQL ({name}):")
                seconds = run_demo(url, n, args.seed, workdir)
                results.append(("PostgreSQL", seconds, count_rows(url)))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("results (wall time of `supervision demo`, including process start and commit):")
    for label, seconds, rows in results:
        report(label, n, seconds, rows, baseline)


if __name__ == "__main__":
    main()
