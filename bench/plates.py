"""Benchmark of printable plate sheets: N plates from the registry to an A4 PDF.

In a temporary SQLite database (built with the migrations, filled by `supervision demo`), it
runs, each in a child process of its own so that peak memory is the child's alone:

- `sheet`: reading every active establishment's plate face (keyset batches, one bulk grade
  query per batch) and rendering the A4 sheets with fpdf2, as `supervision plates render --out
  FILE.pdf` does (the CLI end to end is timed too);
- `bare`: the baseline, rendering the bare QR symbols of the same URLs as PNGs with segno,
  without any layout, text or PDF;

and prints the seconds of each, their ratio, plates per second and the peak RSS; then the
same sheet at a larger size, to show that memory stays flat as the sheet grows.

    python bench/plates.py [--sizes 1000,4000]

Only local files are touched; the scratch folder is removed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BASE_URL = "https://wsjd.example.gov.cn"


def _env(folder: Path) -> dict:
    env = dict(os.environ)
    env.update(INSTANCE_PATH=str(folder), DATABASE_URL=f"sqlite:///{folder / 'bench.db'}", REDIS_URL="",
               PUBLIC_BASE_URL=BASE_URL)
    return env


def _supervision() -> str:
    return str(Path(sys.executable).with_name("supervision"))


def _child(mode: str, folder: Path, extra: list[str] | None = None) -> dict:
    """Run this script in a child process; its JSON answer plus its peak RSS (from wait4)."""
    process = subprocess.Popen([sys.executable, __file__, "--child", mode, "--folder", str(folder), *(extra or [])],
                               env=_env(folder), stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"child {mode} failed")
    answer = json.loads(output.strip().splitlines()[-1])
    answer["peak_rss_mb"] = usage.ru_maxrss / 1024
    return answer


def child_sheet(folder: Path) -> dict:
    from qr.render import render_pdf
    from supervision.app import create_app
    from supervision.extensions import db
    from supervision.registry import plate_printing

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        out = folder / "sheet.pdf"
        count = render_pdf(plate_printing.plate_faces(db.session, plate_printing.Selection()), BASE_URL, str(out))
        seconds = time.perf_counter() - started
        db.session.rollback()
    return {"plates": count, "seconds": seconds, "pdf_bytes": out.stat().st_size}


def child_bare(folder: Path) -> dict:
    from qr.plate import plate_png, plate_url
    from supervision.app import create_app
    from supervision.extensions import db
    from supervision.registry import plate_printing

    app = create_app()
    with app.app_context():
        tokens = [f.token for batch in plate_printing.plate_faces(db.session, plate_printing.Selection()) for f in batch]
        db.session.rollback()
    started = time.perf_counter()
    total = 0
    for token in tokens:
        total += len(plate_png(plate_url(BASE_URL, token), box_size=8))
    seconds = time.perf_counter() - started
    return {"plates": len(tokens), "seconds": seconds, "png_bytes": total}


def measure(size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hs_plates_") as scratch:
        folder = Path(scratch)
        env = _env(folder)
        subprocess.run([_supervision(), "init"], env=env, check=True, capture_output=True)
        subprocess.run([_supervision(), "demo", "--establishments", str(size)], env=env, check=True, capture_output=True)
        bare = _child("bare", folder)
        sheet = _child("sheet", folder)
        started = time.perf_counter()
        subprocess.run([_supervision(), "plates", "render", "--out", str(folder / "cli.pdf")], env=env, check=True,
                       capture_output=True)
        cli_seconds = time.perf_counter() - started
        n = sheet["plates"]
        print(f"{size:,} establishments → {n:,} plates ({-(-n // 8)} pages, {sheet['pdf_bytes'] / 1e6:.1f} MB PDF)")
        print(f"  bare QR symbols (segno PNG): {bare['seconds']:.2f} s, peak RSS {bare['peak_rss_mb']:.0f} MB")
        print(f"  plate sheet (read + layout + PDF): {sheet['seconds']:.2f} s = {n / sheet['seconds']:.0f} plates/s, "
              f"peak RSS {sheet['peak_rss_mb']:.0f} MB")
        print(f"  ratio sheet / bare symbols: {sheet['seconds'] / bare['seconds']:.1f}")
        print(f"  CLI end to end (`supervision plates render --out FILE.pdf`, with start-up): {cli_seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,4000", help="establishments in the demo registry, comma-separated")
    parser.add_argument("--child", choices=["sheet", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        answer = (child_sheet if args.child == "sheet" else child_bare)(Path(args.folder))
        print(json.dumps(answer))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size)


if __name__ == "__main__":
    main()
