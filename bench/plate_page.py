"""Benchmark of the public plate page (/P/<token>) served by gunicorn from PostgreSQL holding
N establishments (default 1,000,000), loaded with wrk picking random plates.

1. The database (default `hs_bench_plates`, kept between runs because loading a million
   establishments takes minutes) is created, migrated and filled with `supervision demo` when it
   holds fewer than N establishments; a 2025 grading run is made and published when there is
   none, so every page shows a grade and its explanation.
2. A sample of plate tokens (default 20,000, spread over the whole table) is written into a wrk
   Lua script that picks one at random for every request. Their pages are stored first with
   `supervision plates prerender` (two processes), as a deployment does after a publication:
   the stored page is what a scan is served from (public_site/plate_fast_path.py), kept current
   on write; `--no-prerender` leaves them to be rendered by the first visitor instead.
3. With the same gunicorn settings, in the same run: the bare Flask baseline
   (`bench/plate_baseline.py`, a constant string on the same path) and the real app, each at
   full load (wrk, C connections) -> requests/s and their ratio (target >= 50 %).
4. The real app again at half its full-load rate (wrk's delay() paces each connection) -> p50,
   p99 (target p99 < 50 ms).
5. For scale, the real app answering an unreadable plate (404, no database statement): the
   ceiling any plate page of this app could reach under the same settings.

    python bench/plate_page.py [--establishments N] [--database-url URL] [--workers W]
                               [--connections C] [--duration S] [--sample K] [--no-prerender]

Needs wrk (apt install wrk). Only 127.0.0.1 is contacted. The machine is shared: figures
vary from run to run, the ratio less so.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.sync_server import Server, free_port  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hs_bench_plates"

LUA = """
tokens = {%(tokens)s}
local pace = %(pace_ms)s
setup = function(thread)
  thread:set("seed", math.random(1, 2147483647))
end
init = function(args)
  math.randomseed(tonumber(seed) or os.time())
end
request = function()
  return wrk.format("GET", "/P/" .. tokens[math.random(#tokens)], {["Accept-Encoding"] = "gzip, deflate"})
end
if pace > 0 then
  delay = function()
    return math.random(math.floor(pace / 2), math.floor(pace * 1.5))
  end
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %%d, \\"errors\\": %%d, \\"non2xx\\": %%d, \\"p50\\": %%d, \\"p90\\": %%d, \\"p99\\": %%d, \\"duration_us\\": %%d}\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.duration))
end
"""


def supervision(env: dict, *args: str) -> str:
    exe = Path(sys.executable).parent / "supervision"
    result = subprocess.run([str(exe), *args], env=env, cwd=str(REPO), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"supervision {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare(url: str, n: int, env: dict) -> None:
    database = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    supervision(env, "init")
    engine = create_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM establishments")).scalar()
    if have < n:
        print(f"loading {n - have:,} establishments (minutes)...", flush=True)
        supervision(env, "demo", "--establishments", str(n - have), "--seed", "7")
    with engine.connect() as conn:
        published = conn.execute(text("SELECT count(*) FROM grading_runs WHERE status = 'published'")).scalar()
    if not published:
        print("grading 2025 and publishing it...", flush=True)
        run_id = json.loads(supervision(env, "grade", "run", "--year", "2025", "--json").strip().splitlines()[-1])["run_id"]
        supervision(env, "grade", "approve", str(run_id), "--by", "bench")
        supervision(env, "grade", "publish", str(run_id), "--by", "bench")
    engine.dispose()


def sample_tokens(url: str, k: int) -> tuple[int, list[str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM establishments")).scalar()
        tokens = [r[0] for r in conn.execute(text(
            "SELECT token FROM plate_tokens TABLESAMPLE SYSTEM (:pct) WHERE revoked_at IS NULL LIMIT :k"),
            {"pct": min(100.0, 100.0 * k * 1.5 / max(total, 1)), "k": k})]
    engine.dispose()
    return total, tokens


def prerender(env: dict, tokens: list[str], work: Path, processes: int = 2) -> None:
    """Store the sampled plates' pages through the app's own view, in parallel."""
    started = time.monotonic()
    exe = Path(sys.executable).parent / "supervision"
    running = []
    for i in range(processes):
        part = work / f"tokens_{i}.txt"
        part.write_text("\n".join(tokens[i::processes]))
        running.append(subprocess.Popen([str(exe), "plates", "prerender", "--tokens", str(part)], env=env,
                                        cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    for process in running:
        out, _ = process.communicate()
        if process.returncode != 0:
            sys.exit(f"plates prerender failed:\n{out}")
    took = time.monotonic() - started
    print(f"prerender: {len(tokens):,} pages stored in {took:.0f} s ({len(tokens) / took:.0f} pages/s, "
          f"{processes} processes)", flush=True)


def wrk(port: int, lua: Path, connections: int, duration: int, threads: int = 2) -> dict:
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
                          "-s", str(lua), f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    data = json.loads(re.search(r"^JSON (.*)$", out, re.M).group(1))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def write_lua(path: Path, tokens: list[str], pace_ms: float) -> None:
    path.write_text(LUA % {"tokens": ",".join(f'"{t}"' for t in tokens), "pace_ms": f"{pace_ms:.3f}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--establishments", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--no-prerender", dest="prerender", action="store_false",
                        help="do not store the sampled plates' pages before the load")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hs_plate_bench_"))
    env = {**os.environ, "DATABASE_URL": args.database_url, "INSTANCE_PATH": str(work / "instance"),
           "REDIS_URL": "", "SECRET_KEY": "bench-only", "PUBLIC_BASE_URL": "http://127.0.0.1"}
    prepare(args.database_url, args.establishments, env)
    total, tokens = sample_tokens(args.database_url, args.sample)
    print(f"database: {total:,} establishments; {len(tokens):,} random plates in the wrk script; "
          f"gunicorn {args.workers} sync workers; wrk {args.connections} connections, {args.duration}s", flush=True)
    full = work / "full.lua"
    write_lua(full, tokens, 0)
    if args.prerender:
        prerender(env, tokens, work)

    figures = {}
    for name, spec in (("baseline", "bench.plate_baseline:app"), ("plate", "supervision.app:create_app()")):
        port = free_port()
        server = Server(spec, port, args.workers, "sync", 1, env, work / f"{name}.log")
        try:
            server.wait_ready()
            wrk(port, full, args.connections, 3)  # warm up: connections, imports, caches
            if name == "plate":
                # The ceiling for any page of this app: an unreadable plate, answered 404 without
                # touching the database (its middleware, Jinja and headers, nothing else).
                floor = work / "floor.lua"
                write_lua(floor, ["!"], 0)
                figures["floor"] = wrk(port, floor, args.connections, args.duration)
                print(f"   floor: {figures['floor']['rps']:8.0f} req/s  (the app answering an unreadable plate "
                      f"404 without a query: {figures['floor']['rps'] / figures['baseline']['rps']:.1%} of the "
                      f"baseline)", flush=True)
            figures[name] = wrk(port, full, args.connections, args.duration)
            print(f"{name:>8}: {figures[name]['rps']:8.0f} req/s  p50 {figures[name]['p50'] / 1000:.1f} ms  "
                  f"p99 {figures[name]['p99'] / 1000:.1f} ms  errors {figures[name]['errors']} "
                  f"non-2xx {figures[name]['non2xx']}", flush=True)
            if name == "plate":
                half = figures[name]["rps"] / 2
                paced = work / "half.lua"
                write_lua(paced, tokens, 1000.0 * args.connections / half)
                figures["half"] = wrk(port, paced, args.connections, args.duration)
                print(f"    half: {figures['half']['rps']:8.0f} req/s (target {half:.0f})  "
                      f"p50 {figures['half']['p50'] / 1000:.1f} ms  p90 {figures['half']['p90'] / 1000:.1f} ms  "
                      f"p99 {figures['half']['p99'] / 1000:.1f} ms", flush=True)
        finally:
            server.stop()
    ratio = figures["plate"]["rps"] / figures["baseline"]["rps"]
    p99 = figures["half"]["p99"] / 1000
    print(f"plate page ÷ bare Flask: {ratio:.1%} (target >= 50 %: {'met' if ratio >= 0.5 else 'NOT met'})")
    print(f"p99 at half load: {p99:.1f} ms (target < 50 ms: {'met' if p99 < 50 else 'NOT met'})")


if __name__ == "__main__":
    main()
