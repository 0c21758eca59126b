"""`supervision draw …` and `supervision inspectors conflict add`."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from supervision.cli import cli_actor, fail, run_service
from supervision.errors import DomainError
from supervision.extensions import db
from supervision.jsonutil import canonical_json
from supervision.sampling import conflicts, plan as plans, results, service, tables
from supervision.sampling.plan import STRATA

STRATUM_NAMES = {"A": "A级", "B": "B级", "C": "C级", "D": "D级", "E": "E级", "ungraded": "未评级"}


@click.group("draw")
def draw_group():
    """Double-random inspections (双随机抽查): plans, draws, verification, results."""


@draw_group.command("example-plan")
def example_plan():
    """Print a valid, commented plan to start from."""
    click.echo(plans.EXAMPLE, nl=False)


def _report(draw) -> dict:
    s = draw.summary
    return {"draw_id": draw.id, "plan_code": draw.plan_code, "seed": draw.seed, "chain_hash": draw.chain_hash,
            "plan_sha256": draw.plan_sha256, "candidate_sha256": draw.candidate_sha256,
            "result_sha256": draw.result_sha256, "candidates": s["candidates"], "drawn": s["drawn"],
            "floor_needed": s["floor_needed"], "coverage": s["coverage"], "strata": s["strata"],
            "pairing": s["pairing"]}


@draw_group.command("run")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@with_appcontext
def run_command(plan_file: Path, as_json: bool):
    """Draw targets and inspector pairs for PLAN_FILE; the drawn pairs get `random` tasks."""
    try:
        text = plan_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"无法读取计划文件：{exc}")
    actor = cli_actor()
    # Two units of work: the seed is committed to the audit chain before any candidate is read.
    draw = run_service(lambda: service.seed_draw(db.session, actor, text))
    draw_id = draw.id
    draw = run_service(lambda: service.perform_draw(db.session, actor, draw_id))
    report = _report(draw)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"抽查 {draw.id}（计划 {draw.plan_code}）  种子 {draw.seed}")
    click.echo(f"候选 {report['candidates']} 家，抽中 {report['drawn']} 家，覆盖率 {_pct(report['coverage'])}"
               f"（最低覆盖要求 {report['floor_needed']} 家）")
    click.echo(f"{'分层':<6}{'候选':>8}{'比例%':>8}{'高风险':>8}{'按比例':>8}{'保底增补':>8}{'抽中':>8}{'覆盖率':>9}")
    for s in STRATA:
        r = report["strata"][s]
        click.echo(f"{STRATUM_NAMES[s]:<6}{r['candidates']:>8}{r['ratio']:>8}{r['high_risk']:>8}{r['quota']:>8}"
                   f"{r['floor_extra']:>8}{r['drawn']:>8}{_pct(r['coverage']):>9}")
    p = report["pairing"]
    click.echo(f"配对：{p['targets_paired']} 家已配检查人员，{p['targets_without_pair']} 家无有效组合；"
               f"可选人员 {p['inspectors_eligible']} 人，实际派出 {p['inspectors_used']} 人，"
               f"每人 {p['load_min']}–{p['load_max']} 家；网格内最大差 {p['largest_grid_spread']}"
               f"（容差 {p['workload_tolerance']}，{'均衡' if p['balanced'] else '超出容差'}）")
    from sqlalchemy import select

    from supervision.sampling.models import DrawTarget

    for t in db.session.execute(select(DrawTarget).where(DrawTarget.draw_id == draw.id, DrawTarget.no_pair_reason.is_not(None))
                                .order_by(DrawTarget.position)).scalars():
        click.echo(f"  无有效组合：单位 {t.establishment_id}：{t.no_pair_reason}")


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@draw_group.command("verify")
@click.argument("draw_id", type=int)
@with_appcontext
def verify_command(draw_id: int):
    """Re-run the draw from what was stored; name anything changed since."""
    try:
        report = service.verify(db.session, draw_id)
    except DomainError as error:
        fail(error.message)
    if report.ok:
        click.echo(f"抽查 {draw_id} 核验通过：种子、计划、候选名单与抽取结果一致")
        return
    for problem in report.problems:
        click.secho(problem, fg="red", err=True)
    fail(f"抽查 {draw_id} 核验未通过：{len(report.problems)} 处不一致")


@draw_group.command("export")
@click.argument("draw_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="directory to write plan, seed, candidates, pairing inputs and result into")
@with_appcontext
def export_command(draw_id: int, out: Path):
    """Write what an outside party needs to check the draw without database access."""
    try:
        written = service.export(db.session, draw_id, out)
    except DomainError as error:
        fail(error.message)
    for path in written:
        click.echo(str(path))


@draw_group.command("list")
@with_appcontext
def list_command():
    """Every draw: id, plan, status, candidates and targets."""
    for d in service.list_draws(db.session):
        s = d.summary or {}
        click.echo(f"{d.id}\t{d.plan_code}\t{d.status}\t{d.period_start}–{d.period_end}\t"
                   f"候选 {s.get('candidates', '—')}\t抽中 {s.get('drawn', '—')}\t{d.created_at:%Y-%m-%d %H:%M}")


@draw_group.command("progress")
@click.argument("draw_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def progress_command(draw_id: int, as_json: bool):
    """Coverage and completion per grade, for this draw and its whole plan."""
    try:
        report = results.progress(db.session, draw_id)
    except DomainError as error:
        fail(error.message)
    if as_json:
        click.echo(canonical_json(report))
        return
    for label, part in (("本次抽取", report["draw"]), (f"计划 {report['plan_code']} 合计", report["plan"])):
        click.echo(f"{label}：")
        click.echo(f"  {'分层':<6}{'候选':>8}{'抽中':>8}{'覆盖率':>9}{'已派':>8}{'已完成':>8}{'完成率':>9}")
        for s in STRATA:
            r = part["strata"][s]
            click.echo(f"  {STRATUM_NAMES[s]:<6}{r['candidates'] or 0:>8}{r['drawn']:>8}{_pct(r['coverage']):>9}"
                       f"{r['paired']:>8}{r['completed']:>8}{_pct(r['completion']):>9}")
        t = part["total"]
        click.echo(f"  {'合计':<6}{t['candidates']:>8}{t['drawn']:>8}{_pct(t['coverage']):>9}"
                   f"{t['paired']:>8}{t['completed']:>8}{_pct(t['completion']):>9}")


@draw_group.command("results")
@click.argument("draw_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help=".csv or .xlsx")
@with_appcontext
def results_command(draw_id: int, out: Path):
    """The plan's results table: every finished inspection of its targets."""
    try:
        rows = results.result_rows(db.session, draw_id)
        tables.write_table(rows, out)
    except DomainError as error:
        fail(error.message)
    click.echo(f"{len(rows)} 条结果已写入 {out}")


@click.group("conflict")
def conflict_group():
    """Declared conflicts of interest (回避) of inspectors."""


@conflict_group.command("add")
@click.argument("badge")
@click.argument("credit_code")
@click.option("--reason", required=True, help="why the inspector must not inspect this establishment")
@with_appcontext
def conflict_add(badge: str, credit_code: str, reason: str):
    """Declare that inspector BADGE must never be drawn for establishment CREDIT_CODE."""
    row = run_service(lambda: conflicts.add_conflict(db.session, cli_actor(), badge_no=badge,
                                                     establishment_credit_code=credit_code, reason=reason))
    click.echo(f"已登记回避：检查人员 {badge} 不参与单位 {credit_code} 的抽查（编号 {row.id}）")


def register(app) -> None:
    from supervision.registry.commands import inspectors_group

    app.cli.add_command(draw_group)
    inspectors_group.add_command(conflict_group)
