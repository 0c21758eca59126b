"""Benchmark of the terminal sync path: many devices, bad connections, exactly-once storage.

What it does, in order (figures and how to read them: docs/benchmarks.md):

1. Creates a scratch PostgreSQL database, migrates it, and creates a field through the service
   functions: a district, grids, establishments with coordinates, inspectors with valid
   certificates (at least two per grid), a published checklist and one enrolled device per
   simulated terminal.
2. Serves a bare JSON-parsing endpoint (bench/baseline_app.py) under gunicorn and drives it with
   the same terminals and the same submission bodies: baseline requests per second.
3. Serves the real service under gunicorn with the same worker settings. The terminals are
   threads (spread over a few client processes), each with its own HTTP session. Every
   inspection is a submission (POST /api/v1/inspections) plus JPEG photos and a PNG signature
   (PUT /api/v1/attachments/<sha256>). A fraction of the requests that carry a body is
   "dropped": the connection is reset in the middle of the body, or the whole request is sent
   and the connection closed before the answer arrives, so the server may or may not have done
   the work, or may still be doing it when the retry arrives. The terminal retries with backoff
   until it gets a definitive answer, as it does on a mobile network. Some inspections upload
   photos before they are submitted, some are submitted again later, some files are uploaded
   twice, and some are "forgotten" until the terminal asks the server (GET) what it still
   misses. Then the baseline is measured again: a neighbour's load that came or went shows up
   as two baselines that disagree.
4. Checks in the database and the file store (not through the API) that every inspection and
   every file is held exactly once, complete, on disk with the right hash, with one audit entry
   each, and that the audit chain verifies. Prints PASS/FAIL, inspections per second and the
   ratio to the baseline (target: at least 0.25).

Traffic goes only to 127.0.0.1; every loop is bounded in count and time; the scratch database,
the gunicorn processes and the temporary directories are removed at the end.

    python bench/terminal_sync.py [--devices N] [--inspections-per-device M] [--workers W]
                                  [--database-url URL]   (--help for the rest)
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.terminal import CHECKLIST as TEST_CHECKLIST  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
TARGET_RATIO = 0.25
CHINA = timezone(timedelta(hours=8))

# A request is tried at most this often; the backoff between tries doubles up to the cap.
MAX_ATTEMPTS = 12
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.01, 0.4

# The checklist the tests use, under its own code: 3 answers, a required photo, optional text.
CHECKLIST = dict(TEST_CHECKLIST, code="bench_accommodation", title="住宿场所卫生监督检查表（压测）")


# --- small helpers ----------------------------------------------------------------------------

def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- scratch database and field data ----------------------------------------------------------

def _admin(admin_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_scratch_database(admin_url: str) -> tuple[str, str]:
    """A new, empty database named hs_bench_<random>; returns (name, its URL)."""
    from sqlalchemy.engine import make_url

    name = f"hs_bench_{uuidlib.uuid4().hex[:10]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_config(database_url: str, attachment_dir: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ATTACHMENT_DIR": str(attachment_dir),
        "SECRET_KEY": "bench-only-secret",
        "PUBLIC_BASE_URL": "https://hs.example.cn",
    }


@dataclass
class DeviceProfile:
    """What one simulated terminal knows after enrolment and its first sync."""

    index: int
    token: str
    badge_no: str
    partner_badge_no: str
    checklist_version_id: int
    establishments: list[tuple[int, float, float]]  # (id, lat, lng) of the grid's establishments


def build_field(database_url: str, attachment_dir: Path, devices: int, grids: int,
                establishments_per_grid: int) -> list[DeviceProfile]:
    """Migrate the scratch database and create the field through the services (so every row
    has its audit entry, as in production); one enrolled device per simulated terminal."""
    from flask_migrate import upgrade

    from supervision import audit
    from supervision.app import create_app
    from supervision.checklists import service as checklists
    from supervision.devices import service as device_service
    from supervision.extensions import db
    from supervision.registry import credit_code
    from supervision.registry import service as registry
    from supervision.registry.service import EstablishmentInput, LicenceInput

    actor = audit.Actor.cli("bench")
    app = create_app(app_config(database_url, attachment_dir))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        province = registry.create_jurisdiction(db.session, actor, code="320000", name="江苏省", level="province")
        city = registry.create_jurisdiction(db.session, actor, code="320100", name="南京市", level="city", parent=province)
        district = registry.create_jurisdiction(db.session, actor, code="320102", name="玄武区", level="district",
                                                parent=city)
        grid_rows = [registry.create_grid(db.session, actor, code=f"BG{g:03d}", name=f"压测第{g + 1}网格",
                                          jurisdiction=district) for g in range(grids)]
        db.session.flush()
        lookups = registry.RegistryLookups(db.session)
        establishments: dict[int, list] = defaultdict(list)
        serial = 0
        for g, grid in enumerate(grid_rows):
            for e in range(establishments_per_grid):
                serial += 1
                lat, lng = 32.0 + g * 0.01 + e * 0.001, 118.75 + e * 0.001
                est, _ = registry.upsert_establishment(db.session, EstablishmentInput(
                    credit_code=credit_code.complete(f"91320100{serial:08d}"),
                    name=f"南京市玄武区压测宾馆{serial}号有限公司", category="accommodation",
                    address=f"江苏省南京市玄武区中山路{serial}号", district="320102",
                    legal_representative="王建国", grid=grid.code, latitude=lat, longitude=lng,
                    licences=[LicenceInput(f"玄卫公字〔2024〕第{serial:04d}号", "公共场所卫生许可证",
                                           date(2024, 1, 1), date(2028, 1, 1))],
                ), actor, lookups)
                establishments[g].append(est)
        # One inspector per device, dealt round-robin over the grids, and at least two per grid,
        # so every device has a certified partner in its own grid.
        today = date.today()
        per_grid = max(2, math.ceil(devices / grids))
        inspectors_by_grid: dict[int, list] = defaultdict(list)
        for g, grid in enumerate(grid_rows):
            for k in range(per_grid):
                n = g * per_grid + k + 1
                inspectors_by_grid[g].append(registry.create_inspector(
                    db.session, actor, badge_no=f"BB{n:05d}", name=f"压测检查员{n}", certificate_no=f"苏卫执证{n:06d}",
                    certificate_valid_from=today - timedelta(days=3650),
                    certificate_valid_until=today + timedelta(days=3650),
                    jurisdiction=district, grids=[grid], phone="13800000000"))
        version, _ = checklists.publish(db.session, actor, CHECKLIST)
        db.session.flush()
        enrolled = []
        for i in range(devices):
            g, k = i % grids, (i // grids) % per_grid
            inspector = inspectors_by_grid[g][k]
            partner = inspectors_by_grid[g][(k + 1) % per_grid]
            _, code = device_service.enrol_device(db.session, actor, badge_no=inspector.badge_no,
                                                  label=f"压测终端{i + 1}", code_ttl=timedelta(hours=1))
            enrolled.append((i, g, inspector.badge_no, partner.badge_no, code))
        db.session.commit()
        profiles = []
        for i, g, badge, partner_badge, code in enrolled:
            issued = device_service.exchange_enrolment_code(db.session, code, token_ttl=timedelta(days=1))
            db.session.commit()
            profiles.append(DeviceProfile(
                index=i, token=issued.token, badge_no=badge, partner_badge_no=partner_badge,
                checklist_version_id=version.id,
                establishments=[(e.id, e.latitude, e.longitude) for e in establishments[g]],
            ))
        db.session.remove()
        db.engine.dispose()
    return profiles


# --- what a terminal sends -------------------------------------------------------------------

@dataclass
class PlannedInspection:
    """One inspection as a device holds it: the JSON body and the files its manifest names."""

    uuid: str
    body: bytes  # the submission, serialised once, sent byte for byte on every try
    files: dict[str, tuple[str, bytes]]  # sha256 -> (media type, bytes)


def make_photo(rng: random.Random, label: str) -> bytes:
    """A 320x240 JPEG, different for every inspection (noise plus the label drawn in)."""
    noise = Image.effect_noise((320, 240), 40).convert("RGB")
    tint = Image.new("RGB", (320, 240), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(noise, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(300), rng.randrange(220)
        draw.rectangle((x, y, x + rng.randrange(10, 80), y + rng.randrange(10, 60)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw.text((8, 8), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def make_signature(rng: random.Random, label: str) -> bytes:
    """A small PNG 'signature': a scribble on white, unique per inspection."""
    image = Image.new("L", (240, 80), 255)
    draw = ImageDraw.Draw(image)
    points = [(10 + i * 22, rng.randrange(15, 65)) for i in range(11)]
    draw.line(points, fill=0, width=3)
    draw.text((4, 66), label, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def plan_inspection(profile: DeviceProfile, rng: random.Random, n: int, photos: int = 2) -> PlannedInspection:
    """A valid submission for one of the device's establishments, with its files: `photos`
    JPEGs (the first one answers the photo item T04) and the counterpart's signature."""
    uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
    est_id, lat, lng = rng.choice(profile.establishments)
    files = {}
    manifest = []
    for k in range(photos):
        photo = make_photo(rng, f"{uuid} photo {k + 1}")
        files[sha256_hex(photo)] = ("image/jpeg", photo)
        manifest.append({"sha256": sha256_hex(photo), "size": len(photo), "media_type": "image/jpeg"}
                        | ({"item_code": "T04"} if k == 0 else {}))
    signature = make_signature(rng, uuid[:8])
    files[sha256_hex(signature)] = ("image/png", signature)
    manifest.append({"sha256": sha256_hex(signature), "size": len(signature), "media_type": "image/png",
                     "purpose": "signature"})
    started = datetime.now(CHINA).replace(microsecond=0) - timedelta(hours=rng.randrange(1, 48))
    failing = rng.random() < 0.1  # some inspections find a problem: findings, an order, a task
    body = {
        "uuid": uuid,
        "establishment_id": est_id,
        "checklist_version_id": profile.checklist_version_id,
        "inspectors": [profile.badge_no, profile.partner_badge_no],
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=45)).isoformat(),
        "gps": {"lat": lat + rng.uniform(-0.0005, 0.0005), "lng": lng + rng.uniform(-0.0005, 0.0005),
                "accuracy_m": round(rng.uniform(5, 30), 1)},
        "answers": [
            {"item_code": "T01", "result": "pass"},
            {"item_code": "T02", "result": "fail" if failing else "pass",
             "note": "2名从业人员健康证过期" if failing else None},
            {"item_code": "T03", "number": round(rng.uniform(0.02, 0.09), 3)},
            {"item_code": "T05", "text": f"压测第{n + 1}条检查记录"},
        ],
        "notes": "现场检查，终端压测",
        "signature": {"signer_name": "王建国", "signer_role": "法定代表人", "sha256": sha256_hex(signature)},
        "attachments": manifest,
    }
    return PlannedInspection(uuid, json.dumps(body, ensure_ascii=False).encode("utf-8"), files)


# --- the simulated terminal ------------------------------------------------------------------

@dataclass(frozen=True)
class Faults:
    """How unkind the network and the device are; every figure is a probability."""

    drop: float = 0.10          # per request: the connection dies (mid-body or before the answer)
    early_upload: float = 0.20  # per inspection: photos go up before the submission
    resubmit: float = 0.15      # per inspection: an already acknowledged inspection is sent again
    reupload: float = 0.15      # per inspection: one of its files is uploaded a second time
    forget: float = 0.10        # per inspection: one file is left for the final recovery pass


class BenchFailure(Exception):
    """A definitive answer the protocol does not allow (e.g. 409 on an honest retry)."""


@dataclass
class DeviceReport:
    """What one terminal did and saw; merged into the run's totals."""

    requests: Counter = field(default_factory=Counter)      # "POST 201", "PUT 200", "drop cut", ...
    latencies: dict = field(default_factory=dict)  # "POST" -> seconds of each answered request
    created_201: Counter = field(default_factory=Counter)   # uuid or sha -> how many 201s it got
    problems: list[str] = field(default_factory=list)
    recovered_uploads: int = 0


class Terminal:
    """One handheld terminal: its own HTTP session, its own random stream, its own work list."""

    def __init__(self, profile: DeviceProfile, port: int, faults: Faults, seed: int, deadline: float):
        self.profile = profile
        self.port = port
        self.base = f"http://{HOST}:{port}"
        self.faults = faults
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {profile.token}"
        self.report = DeviceReport()

    # The network ---------------------------------------------------------------------------

    def _drop(self, method: str, path: str, body: bytes, content_type: str) -> None:
        """Send the request on a raw socket and lose it on the way.

        "cut": the connection resets after half the body: the server never sees a whole request.
        "lost_answer": the whole request arrives, then the device gives up waiting after a few
        milliseconds and closes: the server may finish the work after the device has gone, or be
        in the middle of it when the retry arrives on another connection.
        """
        mode = "cut" if self.rng.random() < 0.5 else "lost_answer"
        head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                f"Authorization: Bearer {self.profile.token}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("ascii")
        self.report.requests[f"drop {mode}"] += 1
        try:
            with closing(socket.create_connection((HOST, self.port), timeout=5)) as s:
                if mode == "cut":
                    s.sendall(head + body[: max(1, len(body) // 2)])
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
                else:
                    s.sendall(head + body)
                    time.sleep(self.rng.uniform(0.0, 0.02))
        except OSError:
            pass

    def _send(self, method: str, path: str, body: bytes | None, content_type: str | None) -> requests.Response | None:
        """One try: either a real answer, or None when the request was dropped or failed."""
        if body is not None and self.rng.random() < self.faults.drop:
            self._drop(method, path, body, content_type)
            return None
        headers = {"Content-Type": content_type} if content_type else {}
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, data=body, headers=headers, timeout=(5, 60))
        except requests.RequestException as exc:
            self.report.requests[f"{method} error {type(exc).__name__}"] += 1
            return None
        self.report.latencies.setdefault(method, []).append(time.perf_counter() - started)
        self.report.requests[f"{method} {response.status_code}"] += 1
        return response

    def deliver(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                key: str | None = None, already_held: bool = False) -> requests.Response:
        """Retry with backoff until a definitive answer (200/201). Anything else the server says
        on an honest retry is a bug, reported with the request that got it; so is a 201
        ("created") for something the server had already acknowledged (`already_held`)."""
        for attempt in range(MAX_ATTEMPTS):
            if time.monotonic() > self.deadline:
                raise BenchFailure(f"time limit reached while sending {method} {path}")
            response = self._send(method, path, body, content_type)
            if response is not None:
                if response.status_code in (200, 201):
                    if response.status_code == 201 and key:
                        self.report.created_201[key] += 1
                        if already_held:
                            raise BenchFailure(f"{method} {path} -> 201 (created) for something already "
                                               f"acknowledged: {response.text[:300]}")
                    return response
                if response.status_code < 500 and response.status_code != 429:
                    raise BenchFailure(f"{method} {path} -> {response.status_code} {response.text[:600]}"
                                       f" | request body: {(body or b'')[:300]!r}")
            delay = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** attempt)
            time.sleep(delay * self.rng.uniform(0.5, 1.0))
        raise BenchFailure(f"gave up on {method} {path} after {MAX_ATTEMPTS} tries")

    # The protocol --------------------------------------------------------------------------

    def submit(self, planned: PlannedInspection, again: bool = False) -> None:
        response = self.deliver("POST", "/api/v1/inspections", planned.body, "application/json", key=planned.uuid,
                                already_held=again)
        if response.json().get("uuid") != planned.uuid:
            raise BenchFailure(f"POST answered for another uuid: {response.text[:300]}")

    def upload(self, sha: str, media_type: str, data: bytes, again: bool = False) -> None:
        response = self.deliver("PUT", f"/api/v1/attachments/{sha}", data, media_type, key=sha, already_held=again)
        if response.json().get("sha256") != sha:
            raise BenchFailure(f"PUT answered for another file: {response.text[:300]}")

    def sync(self, planned: list[PlannedInspection]) -> None:
        """Send every inspection the way a terminal does, with the faults mixed in, then ask
        the server what it still misses and send that."""
        faults, rng = self.faults, self.rng
        acknowledged: list[PlannedInspection] = []
        try:
            for item in planned:
                shas = list(item.files)
                forgotten = rng.choice(shas) if rng.random() < faults.forget else None
                early = set(rng.sample(shas, rng.randint(1, 2))) if rng.random() < faults.early_upload else set()
                for sha in shas:
                    if sha in early and sha != forgotten:
                        self.upload(sha, *item.files[sha])
                self.submit(item)
                acknowledged.append(item)
                for sha in shas:
                    if sha not in early and sha != forgotten:
                        self.upload(sha, *item.files[sha])
                if rng.random() < faults.reupload:
                    sha = rng.choice([s for s in shas if s != forgotten])
                    self.upload(sha, *item.files[sha], again=True)  # must be a 200
                if rng.random() < faults.resubmit:
                    self.submit(rng.choice(acknowledged), again=True)  # the same bytes again: must be a 200
            self.recover(planned)
        except BenchFailure as exc:
            self.report.problems.append(f"device {self.profile.index}: {exc}")
        finally:
            self.session.close()

    def recover(self, planned: list[PlannedInspection]) -> None:
        """For each inspection: GET it, upload every file in `missing_attachments`, and check it
        ends complete."""
        for item in planned:
            state = self.deliver("GET", f"/api/v1/inspections/{item.uuid}").json()
            missing = state.get("missing_attachments") or []
            for entry in missing:
                sha = entry["sha256"]
                if sha not in item.files:
                    raise BenchFailure(f"server misses a file the device never named: {sha}")
                self.upload(sha, *item.files[sha])
                self.report.recovered_uploads += 1
            if missing:
                state = self.deliver("GET", f"/api/v1/inspections/{item.uuid}").json()
            if state.get("status") != "complete" or state.get("missing_attachments"):
                self.report.problems.append(f"device {self.profile.index}: {item.uuid} not complete after "
                                            f"recovery: {json.dumps(state, ensure_ascii=False)[:400]}")

    def baseline(self, planned: list[PlannedInspection], stop_at: float) -> None:
        """The baseline load: the same submission bodies, POSTed in turn without faults until
        `stop_at` (a bare endpoint answers far faster than the real one, so a fixed count of
        requests would be over before the measurement means anything)."""
        try:
            for n in range(10_000_000):
                if time.monotonic() >= stop_at:
                    break
                response = self._send_plain("POST", "/api/v1/inspections", planned[n % len(planned)].body,
                                            "application/json")
                if response is None or response.status_code != 201:
                    self.report.problems.append(f"baseline POST failed: {response and response.status_code}")
                    break
        finally:
            self.session.close()

    def _send_plain(self, method: str, path: str, body: bytes, content_type: str) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, data=body,
                                            headers={"Content-Type": content_type}, timeout=(5, 60))
        except requests.RequestException as exc:
            self.report.requests[f"{method} error {type(exc).__name__}"] += 1
            return None
        self.report.latencies.setdefault(method, []).append(time.perf_counter() - started)
        self.report.requests[f"{method} {response.status_code}"] += 1
        return response


# What the client processes of a phase need; set just before they are forked (so the planned
# files are inherited, not pickled) and read by `_client_process`.
_PHASE: dict = {}


def _client_process(slot: int, results) -> None:
    """One client process: every terminal whose index falls in this slot, one thread each, all
    released at the agreed moment. Several processes, because one Python process sending
    requests from many threads is held back by its own interpreter lock long before a bare
    endpoint is, and then the baseline would measure the client instead of the server."""
    phase = _PHASE
    terminals = [Terminal(p, phase["port"], phase["faults"], phase["seeds"][p.index], phase["deadline"])
                 for p in phase["profiles"] if p.index % phase["processes"] == slot]

    def run(terminal: Terminal) -> None:
        planned = phase["work"][terminal.profile.index]
        if phase["mode"] == "sync":
            terminal.sync(planned)
        else:
            terminal.baseline(planned, phase["stop_at"])

    threads = [threading.Thread(target=run, args=(t,)) for t in terminals]
    time.sleep(max(0.0, phase["start_at"] - time.monotonic()))
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((time.monotonic(), time.process_time() - cpu, [t.report for t in terminals]))


@dataclass
class PhaseResult:
    wall: float                # from the common start to the last terminal's end, seconds
    client_cpu: float          # CPU seconds the client processes used
    reports: list[DeviceReport]


def run_phase(mode: str, port: int, profiles: list[DeviceProfile], work: dict[int, list[PlannedInspection]],
              faults: Faults, seeds: dict[int, int], processes: int, time_limit: float,
              duration: float = 0.0) -> PhaseResult:
    """Run every terminal against `port` ("sync": the real protocol with faults; "baseline":
    plain POSTs for `duration` seconds) from `processes` forked client processes."""
    context = multiprocessing.get_context("fork")
    start_at = time.monotonic() + 1.5
    _PHASE.clear()
    _PHASE.update(mode=mode, port=port, profiles=profiles, work=work, faults=faults, seeds=seeds,
                  processes=processes, start_at=start_at, deadline=start_at + time_limit,
                  stop_at=start_at + duration)
    results = context.Queue()
    workers = [context.Process(target=_client_process, args=(slot, results), daemon=True)
               for slot in range(min(processes, len(profiles)))]
    for worker in workers:
        worker.start()
    try:
        collected = [results.get(timeout=time_limit + 60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    return PhaseResult(wall=max(end for end, _, _ in collected) - start_at,
                       client_cpu=sum(cpu for _, cpu, _ in collected),
                       reports=[report for _, _, reports in collected for report in reports])


# --- gunicorn ----------------------------------------------------------------------------------

class Server:
    """A gunicorn master we started, in its own process group, logging to a file."""

    def __init__(self, app_spec: str, port: int, workers: int, worker_class: str, threads: int,
                 env: dict, log_path: Path):
        self.port = port
        self.log_path = log_path
        command = [sys.executable, "-m", "gunicorn", app_spec, "--bind", f"{HOST}:{port}",
                   "--workers", str(workers), "--worker-class", worker_class, "--chdir", str(REPO),
                   "--backlog", "512", "--timeout", "120", "--graceful-timeout", "10",
                   "--error-logfile", str(log_path), "--log-level", "warning"]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        self.log_file = open(log_path, "ab")
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=str(REPO),
                                        stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"http://{HOST}:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout}s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(p) for p in children]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the master (graceful), SIGKILL to its group if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log_file.close()


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU seconds used so far by these processes (from /proc)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def postgres_cpu_seconds(database: str) -> float:
    """CPU used so far by the postgres backends serving `database` (found by their process
    title), so other databases on a shared server are not counted. Backends that end during a
    phase drop out of the sum; the services keep theirs in a pool, so this is close enough."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = Path(entry, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                pids.append(int(entry.name))
    return cpu_seconds(pids)


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all processes), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- verification -------------------------------------------------------------------------------

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
    from supervision.audit.models import AuditEntry
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
        check(actions["attachment.receive"] == len(files),
              f"audit 'attachment.receive' entries {actions['attachment.receive']} = {len(files)}")
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


# --- the run ---------------------------------------------------------------------------------

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


class CpuWindow:
    """Who used the CPU during a phase: the server's workers, its PostgreSQL backends, the bench
    client, and everything else (the kernel's loopback networking, and on a shared machine a busy
    neighbour, which shows up here and explains a low figure)."""

    def __init__(self, server: Server, database: str | None):
        self.server, self.database = server, database
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float]:
        pg = postgres_cpu_seconds(self.database) if self.database else 0.0
        return cpu_seconds(self.server.worker_pids()), pg, machine_busy_seconds()

    def stop(self, wall: float, client_cpu: float) -> str:
        end = self._sample()
        workers, pg, busy = (b - a for a, b in zip(self.start, end))
        self.workers, self.postgres = workers, pg
        other = max(0.0, busy - workers - pg - client_cpu)
        capacity = wall * (os.cpu_count() or 1)
        self.disturbed = other > 0.1 * capacity
        text = f"gunicorn workers {workers:.1f}, "
        text += f"postgres {pg:.1f}, " if self.database else ""
        return text + (f"bench client {client_cpu:.1f}, everything else {other:.1f} (kernel networking, other "
                       f"processes on the machine) of {capacity:.1f} available")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=16, help="simulated terminals (one thread each)")
    parser.add_argument("--inspections-per-device", type=int, default=25)
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
    parser.add_argument("--time-limit", type=float, default=600, help="seconds allowed for the sync phase")
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL,
                        help="admin URL of the PostgreSQL server; a scratch database is created beside it")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and files (debugging)")
    args = parser.parse_args(argv)
    if min(args.devices, args.inspections_per_device, args.client_processes, args.photos) < 1:
        parser.error("need at least one device, inspection, client process and photo")

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
        result = run_phase("baseline", server.port, profiles, work, faults, seeds, args.client_processes,
                           args.time_limit, duration=args.baseline_seconds)
        answered = sum(r.requests["POST 201"] for r in result.reports)
        cpu = window.stop(result.wall, result.client_cpu)
        line = (f"baseline {label:6} {result.wall:6.2f} s  {answered / result.wall:8.1f} requests/s  "
                f"({answered} POSTs answered 201)\n"
                f"  latency: {summarise_latencies(result.reports)}\n"
                f"  CPU s: {cpu}\n"
                f"  server CPU per request: {window.workers / max(answered, 1) * 1000:.2f} ms")
        base_windows.append(window)
        return answered / result.wall, line, result.reports

    try:
        db_name, database_url = create_scratch_database(args.database_url)
        load_before = Path("/proc/loadavg").read_text().split()[0]
        log(f"scratch database {db_name}; building the field ({args.devices} devices)")
        profiles = build_field(database_url, attachment_dir, args.devices, args.grids, args.establishments_per_grid)

        log(f"preparing {args.devices} x {args.inspections_per_device} inspections "
            f"({args.photos} JPEG photos + 1 PNG signature each)")
        master = random.Random(args.seed)
        seeds = {p.index: master.getrandbits(64) for p in profiles}
        work = {p.index: [plan_inspection(p, random.Random(seeds[p.index] + n), n, args.photos)
                          for n in range(args.inspections_per_device)] for p in profiles}
        uuids = [item.uuid for items in work.values() for item in items]
        files = {sha: len(data) for items in work.values() for item in items for sha, (_, data) in item.files.items()}
        mean_file = sum(files.values()) / len(files)
        mean_json = statistics.mean(len(item.body) for items in work.values() for item in items)
        log(f"{len(uuids)} inspections, {len(files)} files (mean {mean_file / 1024:.1f} KiB), "
            f"submission JSON mean {mean_json:.0f} bytes")
        shape = (f"{args.workers} {args.worker_class} workers"
                 + (f" x {args.threads} threads" if args.worker_class == "gthread" else ""))

        # Baseline, real service, baseline again: a neighbour's load that comes or goes during the
        # run shows up as two baselines that disagree.
        bare = start_server("bench.baseline_app:app", {}, "gunicorn-baseline.log")
        base_before, base_before_text, base_reports = baseline_round(bare, "before")

        env = {"DATABASE_URL": database_url, "ATTACHMENT_DIR": str(attachment_dir),
               "INSTANCE_PATH": str(instance_dir), "SECRET_KEY": "bench-only-secret"}
        real = start_server("supervision.app:create_app()", env, "gunicorn-real.log")
        log(f"real service up on port {real.port} ({shape}); {args.devices} terminals syncing "
            f"from {args.client_processes} client processes")
        window = CpuWindow(real, db_name)
        sync = run_phase("sync", real.port, profiles, work, faults,
                         {i: seed ^ 0x5EED for i, seed in seeds.items()}, args.client_processes, args.time_limit)
        sync_cpu = window.stop(sync.wall, sync.client_cpu)
        real.stop()
        servers.remove(real)

        base_after, base_after_text, more = baseline_round(bare, "after")
        base_reports += more
        bare.stop()
        servers.remove(bare)

        log("verifying in the database and the file store")
        verdict = verify(database_url, attachment_dir, uuids, files, sync.reports)
        real_log = (workdir / "gunicorn-real.log").read_text(errors="replace")
        tracebacks = real_log.count("Traceback")
        base_failures = [p for r in base_reports for p in r.problems]

        requests_seen = sum((r.requests for r in sync.reports), Counter())
        answered = sum(n for k, n in requests_seen.items() if not k.startswith("drop"))
        drops = {k: n for k, n in requests_seen.items() if k.startswith("drop")}
        inspections_per_s = len(uuids) / sync.wall
        baseline_per_s = (base_before + base_after) / 2
        ratio = inspections_per_s / baseline_per_s if baseline_per_s else 0.0
        met = "met" if ratio >= TARGET_RATIO else "NOT met"
        print()
        print("== terminal sync bench ==")
        print(f"devices {args.devices} x {args.inspections_per_device} inspections = {len(uuids)}; gunicorn {shape}; "
              f"{args.client_processes} client processes; {os.cpu_count()} CPUs; load average before the run "
              f"{load_before}")
        print(base_before_text)
        print(f"sync         {sync.wall:6.2f} s  {inspections_per_s:8.1f} inspections/s  "
              f"({answered} answered requests = {answered / sync.wall:.0f}/s; dropped {sum(drops.values())}: {drops})")
        print(f"  answers: {dict(sorted((k, n) for k, n in requests_seen.items() if not k.startswith('drop')))}")
        print(f"  latency: {summarise_latencies(sync.reports)}")
        print(f"  files sent again after GET showed them missing: {sum(r.recovered_uploads for r in sync.reports)}")
        print(f"  CPU s: {sync_cpu}")
        print(f"  server CPU per answered request: gunicorn workers {window.workers / answered * 1000:.2f} ms "
              f"+ postgres {window.postgres / answered * 1000:.2f} ms; per inspection "
              f"{window.workers / len(uuids) * 1000:.1f} + {window.postgres / len(uuids) * 1000:.1f} ms")
        print(f"  server log: {tracebacks} tracebacks")
        print(base_after_text)
        print(f"ratio        {ratio:.3f} = {inspections_per_s:.1f} inspections/s / {baseline_per_s:.1f} baseline "
              f"requests/s (mean of both baselines); target >= {TARGET_RATIO}: {met}")
        per_inspection = 2 + args.photos + 1  # POST, the photos, the signature, the final GET
        print(f"  for scale: the protocol needs at least {per_inspection} requests per inspection (POST, "
              f"{args.photos + 1} uploads, GET), so even at the bare endpoint's cost per request the ratio "
              f"could not pass {1 / per_inspection:.3f}; the sync phase answered {answered / sync.wall:.0f} "
              f"requests/s = {answered / sync.wall / baseline_per_s:.3f} of the baseline rate")
        disturbed = [name for name, w in (("baseline before", base_windows[0]), ("sync", window),
                                          ("baseline after", base_windows[1])) if w.disturbed]
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
              f"throughput target {met} (ratio {ratio:.3f})")
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
