"""gunicorn servers the bench starts, and who used the CPU while they ran."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


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
