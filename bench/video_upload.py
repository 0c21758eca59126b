"""Bench: a 1 GiB body-camera video uploaded over tus in 8 MiB pieces against gunicorn.

1. Writes the video (an MP4 `ftyp` box, then filler) to a scratch directory in 8 MiB blocks and
   times that write: the baseline, the disk-write throughput of this machine in this run.
2. Builds a scratch PostgreSQL database with one enrolled device (bench/sync_field.py), serves
   the real app under gunicorn (one sync worker by default), and uploads the file with tuspy,
   one PATCH per 8 MiB piece with a SHA-1 `Upload-Checksum`, the server streaming each piece to
   disk, keeping the whole file's SHA-256 running, and checking it at the end.
3. Samples the gunicorn worker's resident memory every 20 ms during the upload and prints the
   peak so far at 25/50/75/100 % of the file: it must stay flat as the file grows.
4. Times re-hashing the whole stored file from disk: what completing would cost if the running
   hash were lost (a piece landing on another worker), which the design avoids.

Prints throughput ÷ disk-write throughput (target ≥ 50 %). Removes the 1 GiB files, the
scratch directory and the scratch database at the end.

    python bench/video_upload.py                 # 1 GiB, 8 MiB pieces
    python bench/video_upload.py --size-mib 256  # quicker
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sync_field import DEFAULT_ADMIN_URL, build_field, create_scratch_database, drop_database, log  # noqa: E402
from bench.sync_server import Server, free_port  # noqa: E402

MIB = 1024 * 1024


def write_video(path: Path, size: int, block: int) -> tuple[float, str]:
    """Write `size` bytes in `block`-sized writes (fsync at the end); (seconds, sha256)."""
    ftyp = (24).to_bytes(4, "big") + b"ftyp" + b"isom" + (512).to_bytes(4, "big") + b"isom" + b"mp42"
    mdat = (size - len(ftyp)).to_bytes(4, "big") if size - len(ftyp) < 2 ** 32 else (1).to_bytes(4, "big")
    header = ftyp + mdat + b"mdat"
    seed = os.urandom(block)
    hasher = hashlib.sha256()
    start = time.perf_counter()
    with open(path, "wb") as out:
        written = 0
        n = 0
        while written < size:
            data = (header if written == 0 else b"") + n.to_bytes(8, "big") + seed
            data = data[: min(block, size - written)]
            out.write(data)
            hasher.update(data)
            written += len(data)
            n += 1
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - start
    return elapsed, hasher.hexdigest()


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pids: list[int], interval: float = 0.02):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.peak = max(self.peak, max((rss_kib(pid) for pid in self.pids), default=0))
            time.sleep(self.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL server (admin URL)")
    args = parser.parse_args(argv)
    size, chunk = args.size_mib * MIB, args.chunk_mib * MIB

    from tusclient.client import TusClient

    scratch = Path(tempfile.mkdtemp(prefix="hs_video_bench_"))
    db_name = None
    server = None
    try:
        source = scratch / "clip.mp4"
        log(f"writing {args.size_mib} MiB to disk in {args.chunk_mib} MiB blocks (baseline)")
        disk_seconds, digest = write_video(source, size, chunk)
        disk_rate = size / MIB / disk_seconds
        log(f"disk write: {disk_seconds:.2f} s, {disk_rate:.0f} MiB/s")

        db_name, database_url = create_scratch_database(args.database_url)
        attachments = scratch / "attachments"
        profile = build_field(database_url, attachments, devices=1, grids=1, establishments_per_grid=1)[0]
        env = {"DATABASE_URL": database_url, "ATTACHMENT_DIR": str(attachments), "SECRET_KEY": "bench-only-secret",
               "REDIS_URL": "", "MAX_VIDEO_BYTES": str(max(size, 2 * 1024 * MIB))}
        port = free_port()
        server = Server("supervision.app:create_app()", port, args.workers, "sync", 1, env, scratch / "gunicorn.log")
        server.wait_ready()
        pids = server.worker_pids()
        sampler = RssSampler(pids)
        sampler.start()
        base_rss = max(rss_kib(pid) for pid in pids)

        client = TusClient(f"http://127.0.0.1:{port}/api/v1/uploads",
                           headers={"Authorization": f"Bearer {profile.token}"})
        with open(source, "rb") as stream:
            uploader = client.uploader(file_stream=stream, chunk_size=chunk, upload_checksum=True,
                                       metadata={"sha256": digest, "media_type": "video/mp4"})
            marks = [size // 4, size // 2, size * 3 // 4, size]
            at_marks = []
            log(f"uploading over tus to gunicorn ({args.workers} sync worker(s)), idle worker RSS {base_rss / 1024:.0f} MiB")
            start = time.perf_counter()
            uploader.set_url(uploader.create_url())
            uploader.offset = 0
            while uploader.offset < size:
                uploader.upload_chunk()
                while marks and uploader.offset >= marks[0]:
                    at_marks.append((marks.pop(0), sampler.peak, max(rss_kib(pid) for pid in pids)))
            upload_seconds = time.perf_counter() - start
        sampler.stopped.set()
        sampler.join()
        stored = attachments / digest[:2] / digest[2:4] / digest
        assert stored.is_file() and stored.stat().st_size == size, "the video was not stored"
        upload_rate = size / MIB / upload_seconds

        start = time.perf_counter()
        hasher = hashlib.sha256()
        with open(stored, "rb") as fh:
            while block := fh.read(MIB):
                hasher.update(block)
        rehash_seconds = time.perf_counter() - start
        assert hasher.hexdigest() == digest

        print()
        print(f"video upload bench: {args.size_mib} MiB in {args.chunk_mib} MiB pieces, tus over gunicorn "
              f"({args.workers} sync worker), PostgreSQL")
        print(f"  disk write (baseline, same run): {disk_seconds:6.2f} s  {disk_rate:7.1f} MiB/s")
        print(f"  tus upload:                      {upload_seconds:6.2f} s  {upload_rate:7.1f} MiB/s")
        print(f"  ratio: {upload_rate / disk_rate:.0%} of disk-write throughput (target >= 50%)")
        print(f"  server worker RSS: idle {base_rss / 1024:.0f} MiB")
        for mark, peak, now in at_marks:
            print(f"    at {mark * 100 // size:3d}% ({mark // MIB:5d} MiB received): peak so far {peak / 1024:.0f} MiB,"
                  f" now {now / 1024:.0f} MiB")
        print(f"  re-hashing the whole file from disk (avoided by the running hash): {rehash_seconds:.2f} s"
              f" = {rehash_seconds / upload_seconds:.0%} of the upload time")
        return 0
    finally:
        if server is not None:
            server.stop()
        if os.environ.get("BENCH_LOG"):  # the server's log, when a run needs explaining
            print((scratch / "gunicorn.log").read_text(errors="replace")[-3000:])
        shutil.rmtree(scratch, ignore_errors=True)
        if db_name:
            drop_database(args.database_url, db_name)


if __name__ == "__main__":
    sys.exit(main())
