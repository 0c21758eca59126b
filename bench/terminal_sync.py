"""Benchmark of the terminal sync path: many devices, bad connections, exactly-once storage.

What it does, in order (figures and how to read them: docs/benchmarks.md):

1. Creates a scratch PostgreSQL database, migrates it, and creates a field through the service
   functions (bench/sync_field.py): a district, grids, establishments with coordinates,
   inspectors with valid certificates (at least two per grid), a published checklist and one
   enrolled device per simulated terminal.
2. Serves a bare JSON-parsing endpoint (bench/baseline_app.py) under gunicorn and drives it with
   the same terminals and the same submission bodies: baseline requests per second.
3. Serves the real service under gunicorn with the same worker settings and runs one sync phase
   per protocol (bench/sync_terminal.py), each with inspections of its own:
   - "put": the submission (POST /api/v1/inspections), then each JPEG photo and the PNG
     signature (PUT /api/v1/attachments/<sha256>);
   - "multipart": the submission and its files in one request
     (POST /api/v1/inspections/with-files), files already held left out.
   A fraction of the requests that carry a body is "dropped": the connection is reset in the
   middle of the body, or the whole request is sent and the connection closed before the answer
   arrives. The terminal retries with backoff until it gets a definitive answer. Some
   inspections upload photos before they are submitted, some are submitted again later, some
   files are uploaded twice, and some are "forgotten" until the terminal asks the server (GET)
   what it still misses. Then the baseline is measured again.
4. Counts, in-process, the SQL statements one inspection costs over all its requests on each
   protocol, against the same database.
5. Checks in the database and the file store (bench/sync_verify.py, not through the API) that
   every inspection and every file is held exactly once, complete, on disk with the right hash,
   with one audit entry each, and that the audit chain verifies. Prints PASS/FAIL, inspections
   per second and the ratio to the baseline for each protocol.

Traffic goes only to 127.0.0.1; every loop is bounded in count and time; the scratch database,
the gunicorn processes and the temporary directories are removed at the end.

    python bench/terminal_sync.py [--devices N] [--inspections-per-device M] [--workers W]
                                  [--protocol put|multipart|both] [--database-url URL]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.sync_field import (  # noqa: E402
    DEFAULT_ADMIN_URL,
    app_config,
    build_field,
    create_scratch_database,
    drop_database,
    log,
    plan_inspection,
)
from bench.sync_server import CpuWindow, Server, free_port  # noqa: E402
from bench.sync_terminal import PROTOCOLS, DeviceReport, Faults, run_phase  # noqa: E402
from bench.sync_verify import verify  # noqa: E402

# Issue 14: inspections/s at least this fraction of the bare endpoint's requests/s.
TARGET_RATIO = {"put": 0.07, "multipart": 0.15}
STATEMENT_BUDGET = 30  # SQL statements per inspection over all its requests


def summarise_latencies(reports: list[DeviceReport]) -> str:
    merged = defaultdict(list)
    for report in reports:
        for method, values in report.latencies.items():
            merged[method].extend(values)
    parts = []
    for method, values in sorted(merged.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        parts.append(f"{method} n={len(values)} median {statistics.median(values) * 1000:.1f} ms, "
                     f"p95 {p95 * 1000:.1f} ms")
    return "; ".join(parts)


def statements_per_inspection(database_url: str, attachment_dir: Path, profile, protocol: str) -> tuple[int, int]:
    """SQL statements one fault-free inspection costs, all its requests (submission, files,
    final state read) through the Flask test client, counted at the engine: (statements as
    tests/conftest.py's count_queries counts them, i.e. without SAVEPOINT/RELEASE; round trips,
    with them)."""
    import io

    from sqlalchemy import event

    from supervision.app import create_app
    from supervision.extensions import db

    # The common case: an inspection that finds nothing (one with findings also writes them, a
    # re-inspection task and a rectification order: three statements more).
    planned = next(p for p in (plan_inspection(profile, random.Random(f"count {protocol} {n}"), 10_000 + n)
                               for n in range(100)) if b'"fail"' not in p.body)
    app = create_app(app_config(database_url, attachment_dir))
    headers = {"Authorization": f"Bearer {profile.token}"}
    with app.app_context():
        client, statements = app.test_client(), []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        if os.environ.get("BENCH_SHOW_STATEMENTS"):
            listener = lambda *args: (statements.append(args[2]), print("SQL>", " ".join(args[2].split())[:160]))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            if protocol == "multipart":
                body, content_type = planned.multipart(set())
                client.post("/api/v1/inspections/with-files", data=body, headers={**headers, "Content-Type": content_type})
            else:
                client.post("/api/v1/inspections", data=planned.body, headers={**headers, "Content-Type": "application/json"})
                for sha, (media_type, data) in planned.files.items():
                    client.put(f"/api/v1/attachments/{sha}", data=io.BytesIO(data),
                               headers={**headers, "Content-Type": media_type})
            state = client.get(f"/api/v1/inspections/{planned.uuid}", headers=headers).get_json()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert state["status"] == "complete", state
        db.session.remove()
        db.engine.dispose()
    savepoints = [s for s in statements if s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    return len(statements) - len(savepoints), len(statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=16, help="simulated terminals (one thread each)")
    parser.add_argument("--inspections-per-device", type=int, default=25, help="per protocol")
    parser.add_argument("--protocol", default="both", choices=[*PROTOCOLS, "both"])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, for both servers")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread only)")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the terminals are spread over")
    parser.add_argument("--baseline-seconds", type=float, default=8.0, help="length of each baseline measurement")
    parser.add_argument("--photos", type=int, default=2, help="JPEG photos per inspection (plus one signature PNG)")
    parser.add_argument("--grids", type=int, default=4)
    parser.add_argument("--establishments-per-grid", type=int, default=10)
    parser.add_argument("--drop-rate", type=float, default=Faults.drop)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--time-limit", type=float, default=600, help="seconds allowed for each sync phase")
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL,
                        help="admin URL of the PostgreSQL server; a scratch database is created beside it")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and files (debugging)")
    args = parser.parse_args(argv)
    if min(args.devices, args.inspections_per_device, args.client_processes, args.photos) < 1:
        parser.error("need at least one device, inspection, client process and photo")
    protocols = list(PROTOCOLS) if args.protocol == "both" else [args.protocol]

    faults = Faults(drop=args.drop_rate)
    workdir = Path(tempfile.mkdtemp(prefix="hs_bench_"))
    attachment_dir, instance_dir = workdir / "attachments", workdir / "instance"
    db_name, servers, base_windows = None, [], []

    def start_server(app_spec: str, env: dict, log_name: str) -> Server:
        server = Server(app_spec, free_port(), args.workers, args.worker_class, args.threads, env, workdir / log_name)
        servers.append(server)
        server.wait_ready()
        return server

    def baseline_round(server: Server, label: str) -> tuple[float, str, list[DeviceReport]]:
        log(f"baseline ({label}): the same bodies to the bare endpoint for {args.baseline_seconds:.0f} s")
        window = CpuWindow(server, None)
        result = run_phase("baseline", server.port, profiles, work[protocols[0]], faults, seeds,
                           args.client_processes, args.time_limit, duration=args.baseline_seconds)
        answered = sum(r.requests["POST 201"] for r in result.reports)
        cpu = window.stop(result.wall, result.client_cpu)
        line = (f"baseline {label:6} {result.wall:6.2f} s  {answered / result.wall:8.1f} requests/s  "
                f"({answered} POSTs answered 201)\n"
                f"  latency: {summarise_latencies(result.reports)}\n"
                f"  CPU s: {cpu}\n"
                f"  server CPU per request: {window.workers / max(answered, 1) * 1000:.2f} ms")
        base_windows.append((label, window))
        return answered / result.wall, line, result.reports

    try:
        db_name, database_url = create_scratch_database(args.database_url)
        load_before = Path("/proc/loadavg").read_text().split()[0]
        log(f"scratch database {db_name}; building the field ({args.devices} devices)")
        profiles = build_field(database_url, attachment_dir, args.devices, args.grids, args.establishments_per_grid)

        log(f"preparing {args.devices} x {args.inspections_per_device} inspections per protocol "
            f"({args.photos} JPEG photos + 1 PNG signature each)")
        master = random.Random(args.seed)
        seeds = {p.index: master.getrandbits(64) for p in profiles}
        work = {protocol: {p.index: [plan_inspection(p, random.Random(seeds[p.index] + k * 1_000_003 + n), n,
                                                     args.photos)
                                     for n in range(args.inspections_per_device)] for p in profiles}
                for k, protocol in enumerate(protocols)}
        uuids = [item.uuid for by_device in work.values() for items in by_device.values() for item in items]
        files = {sha: len(data) for by_device in work.values() for items in by_device.values() for item in items
                 for sha, (_, data) in item.files.items()}
        mean_file = sum(files.values()) / len(files)
        log(f"{len(uuids)} inspections, {len(files)} files (mean {mean_file / 1024:.1f} KiB)")
        shape = (f"{args.workers} {args.worker_class} workers"
                 + (f" x {args.threads} threads" if args.worker_class == "gthread" else ""))

        # Baseline, real service (each protocol), baseline again: a neighbour's load that comes
        # or goes during the run shows up as two baselines that disagree.
        bare = start_server("bench.baseline_app:app", {}, "gunicorn-baseline.log")
        base_before, base_before_text, base_reports = baseline_round(bare, "before")

        env = {"DATABASE_URL": database_url, "ATTACHMENT_DIR": str(attachment_dir),
               "INSTANCE_PATH": str(instance_dir), "SECRET_KEY": "bench-only-secret"}
        real = start_server("supervision.app:create_app()", env, "gunicorn-real.log")
        phases = {}
        for protocol in protocols:
            log(f"real service up on port {real.port} ({shape}); {args.devices} terminals syncing "
                f"with protocol '{protocol}' from {args.client_processes} client processes")
            window = CpuWindow(real, db_name)
            result = run_phase("sync", real.port, profiles, work[protocol], faults,
                               {i: seed ^ 0x5EED for i, seed in seeds.items()}, args.client_processes,
                               args.time_limit, protocol=protocol)
            phases[protocol] = (result, window, window.stop(result.wall, result.client_cpu))
        real.stop()
        servers.remove(real)

        base_after, base_after_text, more = baseline_round(bare, "after")
        base_reports += more
        bare.stop()
        servers.remove(bare)

        log("verifying in the database and the file store, then counting SQL statements per inspection")
        all_reports = [r for result, _, _ in phases.values() for r in result.reports]
        verdict = verify(database_url, attachment_dir, uuids, files, all_reports)
        statements = {protocol: statements_per_inspection(database_url, workdir / "count_attachments", profiles[0],
                                                          protocol) for protocol in protocols}
        real_log = (workdir / "gunicorn-real.log").read_text(errors="replace")
        tracebacks = real_log.count("Traceback")
        base_failures = [p for r in base_reports for p in r.problems]
        baseline_per_s = (base_before + base_after) / 2

        print()
        print("== terminal sync bench ==")
        print(f"devices {args.devices} x {args.inspections_per_device} inspections per protocol; gunicorn {shape}; "
              f"{args.client_processes} client processes; {os.cpu_count()} CPUs; load average before the run "
              f"{load_before}")
        print(base_before_text)
        summary, all_met = [], True
        for protocol, (result, window, cpu) in phases.items():
            count = args.devices * args.inspections_per_device
            seen = sum((r.requests for r in result.reports), Counter())
            answered = sum(n for k, n in seen.items() if not k.startswith("drop"))
            drops = {k: n for k, n in seen.items() if k.startswith("drop")}
            per_s = count / result.wall
            ratio = per_s / baseline_per_s if baseline_per_s else 0.0
            met = ratio >= TARGET_RATIO[protocol] and statements[protocol][0] <= STATEMENT_BUDGET
            all_met &= met
            print(f"sync '{protocol}' {result.wall:6.2f} s  {per_s:8.1f} inspections/s  "
                  f"({answered} answered requests = {answered / result.wall:.0f}/s; "
                  f"dropped {sum(drops.values())}: {drops})")
            print(f"  answers: {dict(sorted((k, n) for k, n in seen.items() if not k.startswith('drop')))}")
            print(f"  latency: {summarise_latencies(result.reports)}")
            print(f"  files sent again after GET showed them missing: {sum(r.recovered_uploads for r in result.reports)}")
            print(f"  CPU s: {cpu}")
            print(f"  server CPU per inspection: gunicorn workers {window.workers / count * 1000:.1f} ms "
                  f"+ postgres {window.postgres / count * 1000:.1f} ms")
            summary.append(f"ratio '{protocol}' {ratio:.3f} = {per_s:.1f} inspections/s / {baseline_per_s:.1f} "
                           f"baseline requests/s; target >= {TARGET_RATIO[protocol]}: "
                           f"{'met' if ratio >= TARGET_RATIO[protocol] else 'NOT met'}; "
                           f"{statements[protocol][0]} SQL statements per inspection (target <= {STATEMENT_BUDGET}; "
                           f"{statements[protocol][1]} round trips with savepoints)")
        print(f"  server log: {tracebacks} tracebacks")
        print(base_after_text)
        print("\n".join(summary))
        disturbed = [label for label, w in base_windows if w.disturbed]
        disturbed += [f"sync '{p}'" for p, (_, w, _) in phases.items() if w.disturbed]
        if disturbed:
            print(f"  WARNING: other load used more than 10% of the machine during: {', '.join(disturbed)}; "
                  f"the figures of this run are disturbed, run again on a quiet machine")
        print("checks:")
        print("\n".join(verdict.lines))
        if base_failures:
            print(f"  baseline requests that failed: {len(base_failures)} ({base_failures[:3]})")
        print(f"lost {verdict.lost}, doubled {verdict.doubled}")
        if tracebacks:
            print("first server traceback:\n" + real_log[real_log.index("Traceback"):][:3000])
        passed = verdict.ok and tracebacks == 0 and not base_failures
        print(f"RESULT: {'PASS' if passed else 'FAIL'} (exactly once, complete, chain intact); "
              f"targets {'met' if all_met else 'NOT all met'}")
        return 0 if passed else 1
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            log(f"kept database {db_name} and {workdir}")
        else:
            if db_name:
                drop_database(args.database_url, db_name)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
