"""Benchmark of credit reports: a batch of N reports (the job function `report.batch_job`,
inline) on demo data, against a baseline measured in the same run: N one-line PDFs with the
same embedded font (the process's parsed Noto CJK font, subset per document), the floor any PDF
with Chinese text pays here; and N one-line PDFs with fpdf2's add_font per document, to show
what loading the font once saves. Times are CPU time of this process, so that other load on a
shared machine counts less.

    python bench/credit_reports.py [--establishments 300] [--reports 50]

A temporary SQLite database, built by the migrations and filled by `supervision demo`, with a
2025 grading run published; removed at the end.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def baseline(n: int, shared_font: bool) -> float:
    """n one-line PDFs: with the process's parsed font (as reports use it), or with fpdf2's
    add_font per document (the naive way)."""
    from fpdf import FPDF

    from supervision.documents.pdf import FACE_INDEX, FAMILY, add_chinese_font, font_path

    start = time.process_time()
    for _ in range(n):
        pdf = FPDF()
        if shared_font:
            add_chinese_font(pdf)
        else:
            pdf.add_font(FAMILY, "", font_path(), collection_font_number=FACE_INDEX)
        pdf.add_page()
        pdf.set_font(FAMILY, size=10)
        pdf.cell(0, 8, "信用报告 XYBG-2026-000001")
        bytes(pdf.output())
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--establishments", type=int, default=300)
    parser.add_argument("--reports", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        from flask_migrate import upgrade
        from sqlalchemy import select

        from supervision import audit
        from supervision.app import create_app
        from supervision.credit.grading import approve, publish, run_grading
        from supervision.credit.report import batch_job
        from supervision.extensions import db
        from supervision.registry.models import Establishment

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                          "REDIS_URL": "", "PUBLIC_BASE_URL": "https://hs.example.cn"})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            result = app.test_cli_runner().invoke(args=["demo", "--establishments", str(args.establishments)])
            assert result.exit_code == 0, result.output
            actor = audit.Actor.cli("bench")
            run = run_grading(db.session, actor, year=2025, now=datetime(2026, 1, 20)).run
            approve(db.session, actor, run.id, by="bench")
            publish(db.session, actor, run.id, by="bench")
            db.session.commit()
            codes = list(db.session.execute(select(Establishment.credit_code).order_by(Establishment.id)
                                            .limit(args.reports)).scalars())
            base = baseline(len(codes), shared_font=True)
            naive = baseline(len(codes), shared_font=False)
            start = time.process_time()
            written = batch_job(codes, f"{tmp}/out")["written"]
            elapsed = time.process_time() - start
            pages = sum(1 for _ in Path(f"{tmp}/out").iterdir())
    assert len(written) == len(codes) == pages
    print(f"reports: {len(codes)} in {elapsed:.2f} s ({elapsed / len(codes) * 1000:.0f} ms each, "
          f"{len(codes) / elapsed:.1f}/s)")
    print(f"baseline (one-line PDF, same font): {base:.2f} s ({base / len(codes) * 1000:.0f} ms each)")
    print(f"one-line PDF with add_font per document: {naive:.2f} s ({naive / len(codes) * 1000:.0f} ms each); "
          f"ratio naive / baseline: {naive / base:.2f}")
    print(f"ratio report / baseline: {elapsed / base:.2f}")


if __name__ == "__main__":
    main()
