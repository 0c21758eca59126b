"""`supervision plates issue | url | render`: re-issue a plate, print its URL, print plates.

The commands parse, call `supervision.registry.plates` / `plate_printing`, and let `qr.render`
draw; a sheet of thousands of plates shows a progress bar on stderr.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from supervision.cli import cli_actor, fail, run_service
from supervision.errors import DomainError
from supervision.extensions import db
from supervision.registry import plate_printing, plates


@click.group("plates")
def plates_group():
    """QR identity plates (二维码身份牌): re-issue, URL, printable plates."""


@plates_group.command("issue")
@click.argument("credit_code")
@with_appcontext
def issue_command(credit_code):
    """Re-issue the plate of CREDIT_CODE (lost or damaged); the old plate then reads as replaced."""
    from qr.plate import plate_url

    plate = run_service(lambda: plates.reissue_plate(db.session, cli_actor(), credit_code))
    click.echo(f"新标牌编号 {plates.plate_number(plate.token)}，旧标牌已作废")
    click.echo(plate_url(current_app.config["PUBLIC_BASE_URL"], plate.token))


@plates_group.command("url")
@click.argument("credit_code")
@with_appcontext
def url_command(credit_code):
    """Print the URL encoded in the current plate of CREDIT_CODE."""
    from qr.plate import plate_url

    plate = run_service(lambda: plates.current_plate(db.session, credit_code))
    click.echo(plate_url(current_app.config["PUBLIC_BASE_URL"], plate.token))


@plates_group.command("render")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="FILE.png (one plate, with --credit-code) or FILE.pdf (A4 sheets)")
@click.option("--credit-code", "credit_code", help="the establishment of a single PNG plate")
@click.option("--district", help="PDF: only this district (division code)")
@click.option("--grid", help="PDF: only this supervision grid (grid code)")
@click.option("--category", help="PDF: only this category code")
@with_appcontext
def render_command(out, credit_code, district, grid, category):
    """Render one plate as PNG, or A4 sheets (2 × 4 plates a page) of many as PDF."""
    from qr.plate import PlateUrlTooLong
    from qr import render

    base_url = current_app.config["PUBLIC_BASE_URL"]
    suffix = Path(out).suffix.lower()
    try:
        if suffix == ".png":
            if not credit_code:
                fail("PNG 只渲染一块标牌：请用 --credit-code 指定单位")
            if district or grid or category:
                fail("--district/--grid/--category 只用于 PDF 标牌页")
            face = run_service(lambda: plate_printing.plate_face(db.session, credit_code))
            Path(out).write_bytes(render.render_png(face, base_url))
            click.echo(f"已生成标牌 {face.plate_number}：{out}")
            return
        if suffix != ".pdf":
            fail("输出文件须为 .png（单块标牌）或 .pdf（A4 标牌页）")
        if credit_code:
            fail("--credit-code 只用于 PNG；PDF 请用 --district/--grid/--category 选择单位")
        selection = plate_printing.Selection(district, grid, category)
        total = run_service(lambda: plate_printing.count_plates(db.session, selection))
        if total == 0:
            fail("没有符合条件且持有效标牌的单位")
        with click.progressbar(length=total, label="plates", file=sys.stderr) as bar:
            count = render.render_pdf(plate_printing.plate_faces(db.session, selection), base_url, out,
                                      progress=bar.update)
        db.session.rollback()  # read only
        click.echo(f"已生成 {count} 块标牌（{-(-count // render.PER_PAGE)} 页）：{out}")
    except (PlateUrlTooLong, DomainError) as error:
        db.session.rollback()
        fail(error.message)
