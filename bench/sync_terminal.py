"""The simulated terminals: each a thread with its own HTTP session, sending inspections the
way a handheld does over a lossy network (dropped connections, retries, duplicates, late files),
spread over forked client processes."""
from __future__ import annotations

import json
import multiprocessing
import random
import socket
import struct
import threading
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field

import requests

from bench.sync_field import DeviceProfile, PlannedInspection
from bench.sync_server import HOST

# A request is tried at most this often; the backoff between tries doubles up to the cap.
MAX_ATTEMPTS = 12
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.01, 0.4
PROTOCOLS = ("put", "multipart")  # per-file PUTs after the POST, or everything in one request


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

    def __init__(self, profile: DeviceProfile, port: int, faults: Faults, seed: int, deadline: float,
                 protocol: str = "put"):
        self.protocol = protocol
        self.profile = profile
        self.port = port
        self.base = f"http://{HOST}:{port}"
        self.faults = faults
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {profile.token}"
        self.report = DeviceReport()
        self.sent: set[str] = set()  # files this terminal has had acknowledged
        self.known_complete: set[str] = set()  # inspections a one-request answer said are complete

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

    def submit_with_files(self, planned: PlannedInspection, leave_out: set[str]) -> None:
        """The one-request path: the submission and every file not left out (already sent, or
        forgotten for the recovery pass) in one multipart POST."""
        body, content_type = planned.multipart(leave_out)
        response = self.deliver("POST", "/api/v1/inspections/with-files", body, content_type, key=planned.uuid)
        state = response.json()
        if state.get("uuid") != planned.uuid:
            raise BenchFailure(f"POST answered for another uuid: {response.text[:300]}")
        expected_missing = {sha for sha in leave_out if sha not in self.sent}
        if {m["sha256"] for m in state.get("missing_attachments", [])} - expected_missing:
            raise BenchFailure(f"files sent with the submission reported missing: {response.text[:300]}")
        if state.get("status") == "complete":
            self.known_complete.add(planned.uuid)

    def upload(self, sha: str, media_type: str, data: bytes, again: bool = False) -> None:
        response = self.deliver("PUT", f"/api/v1/attachments/{sha}", data, media_type, key=sha, already_held=again)
        if response.json().get("sha256") != sha:
            raise BenchFailure(f"PUT answered for another file: {response.text[:300]}")
        self.sent.add(sha)

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
                if self.protocol == "multipart":
                    # Files already held are left out; a forgotten one waits for the recovery pass.
                    self.submit_with_files(item, leave_out=early | {forgotten} - {None})
                    acknowledged.append(item)
                else:
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
        ends complete. An inspection whose one-request submission was answered "complete" needs
        no question: the answer was its state (the database check at the end verifies it)."""
        for item in planned:
            if item.uuid in self.known_complete:
                continue
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
    terminals = [Terminal(p, phase["port"], phase["faults"], phase["seeds"][p.index], phase["deadline"],
                          phase["protocol"])
                 for p in phase["profiles"] if p.index % phase["processes"] == slot]

    def run(terminal: Terminal) -> None:
        planned = phase["work"][terminal.profile.index]
        if phase["mode"] == "sync":  # with phase["protocol"]
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
              duration: float = 0.0, protocol: str = "put") -> PhaseResult:
    """Run every terminal against `port` ("sync": the real protocol with faults; "baseline":
    plain POSTs for `duration` seconds) from `processes` forked client processes."""
    context = multiprocessing.get_context("fork")
    start_at = time.monotonic() + 1.5
    _PHASE.clear()
    _PHASE.update(mode=mode, protocol=protocol, port=port, profiles=profiles, work=work, faults=faults, seeds=seeds,
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
