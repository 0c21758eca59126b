"""Credit reports (信用报告, seed 001 §三(三)): what licensing, approvals and awards read about an
establishment, as a numbered PDF anyone can verify.

`issue` gathers the report's content (basic information, grade history with explanations,
public records, lists, measures), allocates the next number of the year, renders the PDF
(`report_pdf`) and stores the number with the PDF's SHA-256. `/verify/report/<number>` (the
public site) says whether a number exists, for whom, when it was issued and its hash.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from supervision import audit
from supervision.credit.grading import explain as explaining
from supervision.credit import lists as credit_lists
from supervision.credit.grading.models import Grade, GradingRun
from supervision.credit.measures import Match, match_measures
from supervision.credit.policies import Policies
from supervision.credit.records import subject_records
from supervision.errors import Conflict, NotFound
from supervision.extensions import db
from supervision.modelbase import Snapshot, utcnow
from supervision.registry.models import Establishment

NUMBER_PREFIX = "XYBG"


class CreditReport(Snapshot, db.Model):
    __tablename__ = "credit_reports"
    __table_args__ = (UniqueConstraint("year", "sequence", name="uq_credit_reports_year_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subjects.id"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"))
    credit_code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    pages: Mapped[Optional[int]] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(128))


def list_names(session: Session, establishment: Establishment, on: date) -> list[str]:
    """The lists (their Chinese titles) the establishment is on that day: the one call to the
    list provider made by reports and credit checks."""
    return credit_lists.titles_on(session, establishment.subject_id, on)


@dataclass
class PublicRecord:
    arose_on: date
    kind: str
    title: str
    severity: str
    note: str
    under_review: bool


@dataclass
class ReportContent:
    number: str
    issued_at: datetime
    on: date
    verify_url: str
    establishment: Establishment
    jurisdiction_name: str
    category_name: str
    grades: list[explaining.Explanation] = field(default_factory=list)
    records: list[PublicRecord] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    measures: list[Match] = field(default_factory=list)


def verify_url(number: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/verify/report/{number}"


def _grade_history(session: Session, actor: audit.Actor, establishment: Establishment) -> list[explaining.Explanation]:
    years = session.execute(select(GradingRun.year).join(Grade, Grade.run_id == GradingRun.id)
                            .where(Grade.subject_id == establishment.subject_id, GradingRun.status == "published")
                            .distinct().order_by(GradingRun.year.desc())).scalars().all()
    return [explaining.explain(session, actor, establishment, year=year) for year in years]


def gather(session: Session, actor: audit.Actor, establishment: Establishment, *, on: date, number: str,
           issued_at: datetime) -> ReportContent:
    """Everything the report shows; only public records, as `publicity_of` says."""
    explaining.check_reader(session, actor, establishment)
    policies = Policies.current(session)
    content = ReportContent(number, issued_at, on, verify_url(number), establishment,
                            establishment.jurisdiction.name, establishment.category.name)
    content.grades = _grade_history(session, actor, establishment)
    for view in subject_records(session, audit.Actor.system("credit-report"), establishment.subject_id, on=on,
                                policies=policies):
        if view.publicity.public:
            r = view.record
            content.records.append(PublicRecord(r.arose_on, explaining.KIND_NAMES.get(r.kind, r.kind), r.title or "",
                                                explaining.SEVERITY_NAMES.get(r.severity, r.severity),
                                                view.publicity.note, view.publicity.under_review))
    content.lists = list_names(session, establishment, on)
    content.measures = match_measures(session, establishment, on=on, roots=[current_app.config.get("POLICY_DIR")])
    return content


def _allocate(session: Session, establishment: Establishment, year: int, by: str) -> CreditReport:
    """The next number of the year. Two issuers at once: the unique constraint refuses one,
    which takes the next."""
    for _ in range(20):
        sequence = (session.scalar(select(func.max(CreditReport.sequence)).where(CreditReport.year == year)) or 0) + 1
        report = CreditReport(number=f"{NUMBER_PREFIX}-{year}-{sequence:06d}", year=year, sequence=sequence,
                              subject_id=establishment.subject_id, establishment_id=establishment.id,
                              credit_code=establishment.credit_code, name=establishment.name, issued_by=by[:128])
        try:
            with session.begin_nested():
                session.add(report)
                session.flush()
        except IntegrityError:
            continue
        return report
    raise Conflict("报告编号分配冲突，请重试")


def issue(session: Session, actor: audit.Actor, establishment: Establishment, *, on: date,
          by: str | None = None) -> tuple[CreditReport, bytes]:
    """Number, render and record one report: (its row, the PDF)."""
    from supervision.credit.report_pdf import render

    explaining.check_reader(session, actor, establishment)
    issued_at = utcnow()
    report = _allocate(session, establishment, issued_at.year, by or actor.ref or actor.kind)
    content = gather(session, actor, establishment, on=on, number=report.number, issued_at=issued_at)
    pdf, pages = render(content)
    report.sha256, report.pages, report.issued_at = hashlib.sha256(pdf).hexdigest(), pages, issued_at
    audit.record(session, actor, "credit_report_issue", report)
    return report, pdf


def report_by_number(session: Session, number: str) -> CreditReport:
    found = session.execute(select(CreditReport).where(CreditReport.number == number.strip().upper())
                            ).scalar_one_or_none() if len(number) <= 32 else None
    if found is None:
        raise NotFound("报告编号不存在", fields={"number": ["不存在"]})
    return found


def batch_job(credit_codes: list[str], out_dir: str, on: str | None = None, by: str = "system:batch") -> dict:
    """Reports for a list of codes, written as `<number>.pdf` into `out_dir`: a job function
    (`supervision.jobs.enqueue`), one unit of work per report so a failure loses one."""
    from pathlib import Path

    from supervision.credit.calendar import china_today
    from supervision.credit.grading.explain import establishment_by_code
    from supervision.errors import DomainError
    from supervision.transaction import unit_of_work

    day = date.fromisoformat(on) if on else china_today()
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    written, refused = [], {}
    for code in credit_codes:
        try:
            with unit_of_work(db.session):
                establishment = establishment_by_code(db.session, code)
                report, pdf = issue(db.session, audit.Actor.system("credit-report"), establishment, on=day, by=by)
                (target / f"{report.number}.pdf").write_bytes(pdf)
                written.append(report.number)
        except DomainError as error:
            refused[code] = error.message
    return {"written": written, "refused": refused}


# --- command line -------------------------------------------------------------------------------

import click  # noqa: E402
from flask.cli import with_appcontext  # noqa: E402


@click.command("report")
@click.argument("credit_codes", nargs=-1, required=True)
@click.option("--out", "out", type=click.Path(), help="the PDF file (one code), or a directory with --queue")
@click.option("--queue", "queued", is_flag=True, help="many codes: write <number>.pdf files into --out as a job")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="facts as of this day (default today)")
@with_appcontext
def report_command(credit_codes, out, queued, on):
    """A numbered credit report (PDF) of an establishment; with --queue, a batch on the job queue."""
    from pathlib import Path

    from supervision import jobs
    from supervision.cli import cli_actor, fail, run_service
    from supervision.credit.calendar import china_today
    from supervision.credit.grading.explain import establishment_by_code

    if not out:
        fail("须指定 --out（PDF 文件，或批量时的目录）")
    if queued or len(credit_codes) > 1:
        submitted = jobs.enqueue(batch_job, list(credit_codes), str(Path(out).resolve()),
                                 on.date().isoformat() if on else None, cli_actor().ref)
        if submitted.queued:
            click.echo(f"{len(credit_codes)} reports queued as job {submitted.job_id} → {out}")
        else:
            result = submitted.result
            click.echo(f"{len(result['written'])} reports written to {out}: {', '.join(result['written'])}")
            for code, message in result["refused"].items():
                click.secho(f"  {code}: {message}", fg="red", err=True)
        return
    report, pdf = run_service(lambda: issue(db.session, cli_actor(), establishment_by_code(db.session, credit_codes[0]),
                                            on=on.date() if on else china_today()))
    Path(out).write_bytes(pdf)
    click.echo(f"credit report {report.number} ({report.pages} pages) → {out}")
    click.echo(f"  SHA-256 {report.sha256}")
    click.echo(f"  verify at {verify_url(report.number)}")
