"""Why a subject got its grade: score, policy version, hard rule, and each record that counted
with the points and the rule that gave them — in Chinese, as the establishment and the public
will read it. Also who may read it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision import audit, policy
from supervision.credit.grading import policy as grading_policy
from supervision.credit.grading.models import Grade, GradeContribution, GradingRun, GradingRunPolicy
from supervision.credit.models import CreditRecord
from supervision.errors import Forbidden, NotFound
from supervision.registry.models import Establishment, Inspector, Jurisdiction

KIND_NAMES = {"licensing": "行政许可", "inspection": "行政检查", "penalty": "行政处罚", "coercive_measure": "行政强制",
              "levy": "行政征收", "requisition": "行政征用", "positive": "增信信息", "adverse": "不良信息",
              "dishonesty": "失信信息", "bad_practice_points": "不良执业行为记分"}
SEVERITY_NAMES = {"none": "无问题", "minor": "轻微", "general": "一般", "serious": "严重"}
CODE_NAMES = {"licence_revocation": "吊销许可证", "warning": "警告", "fine": "罚款", "confiscation": "没收",
              "suspension": "责令停产停业/暂扣许可证", "commendation": "表彰", "honour": "荣誉称号",
              "voluntary_disclosure": "自愿申报", "commitment_kept": "践诺", "rectification_overdue": "逾期未整改"}
STATUS_NAMES = {"draft": "草稿", "approved": "已审核", "published": "已发布", "superseded": "已被取代"}


@dataclass
class Contribution:
    record_id: int
    kind: str
    code: str | None
    severity: str
    title: str
    arose_on: date
    points: int
    rule_key: str
    rule_text: str
    policy_version: str


@dataclass
class Explanation:
    establishment_id: int | None
    credit_code: str | None
    name: str | None
    year: int
    run_id: int
    run_status: str
    grade: str
    score: int
    base: int
    policy_version: str
    hard_rule: str | None
    hard_rule_title: str | None
    contributions: list[Contribution] = field(default_factory=list)


def rule_text(rule_key: str, points: int) -> str:
    """"points.penalty.serious" → "行政处罚·严重：-30 分"."""
    parts = rule_key.split(".")
    kind = KIND_NAMES.get(parts[1], parts[1]) if len(parts) > 1 else rule_key
    if len(parts) >= 4 and parts[2] == "codes":
        what = f"{kind}·{CODE_NAMES.get(parts[3], parts[3])}"
    elif len(parts) >= 3 and parts[2] == "per_point":
        what = f"{kind}·按记分"
    elif len(parts) >= 3:
        what = f"{kind}·{SEVERITY_NAMES.get(parts[2], parts[2])}"
    else:
        what = kind
    return f"{what}：{points:+d} 分"


def check_reader(session: Session, actor: audit.Actor, establishment: Establishment) -> None:
    """Supervisors at the command line and the system read every grade. A terminal reads the
    grades of establishments in its inspector's jurisdiction (or below it). An establishment's
    account reads its own."""
    if actor.kind in ("cli", "system"):
        return
    if actor.kind == "establishment" and establishment.id in actor.establishment_ids:
        return  # its own grade (the self-service portal)
    if actor.kind == "device":
        inspector = session.get(Inspector, actor.details.get("inspector_id"))
        node = session.get(Jurisdiction, establishment.jurisdiction_id)
        chain = policy.jurisdiction_chain(node) if node else []
        if inspector is not None and session.get(Jurisdiction, inspector.jurisdiction_id).code in chain:
            return
    raise Forbidden("无权查看该单位的信用评价", fields={"establishment_id": ["不在本辖区"]})


def find_grade(session: Session, subject_id: int, *, year: int | None = None, run_id: int | None = None) -> Grade | None:
    """The grade of a run, or the latest published grade (of a year, if given)."""
    query = select(Grade).join(GradingRun, GradingRun.id == Grade.run_id).where(Grade.subject_id == subject_id)
    if run_id is not None:
        query = query.where(GradingRun.id == run_id)
    else:
        query = query.where(GradingRun.status == "published")
        if year is not None:
            query = query.where(GradingRun.year == year)
    query = query.order_by(GradingRun.year.desc(), GradingRun.published_at.desc(), GradingRun.id.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()


def establishment_by_id(session: Session, establishment_id: int) -> Establishment:
    found = session.get(Establishment, establishment_id)
    if found is None:
        raise NotFound("单位不存在", fields={"establishment_id": ["不存在"]})
    return found


def establishment_by_code(session: Session, credit_code: str) -> Establishment:
    found = session.execute(select(Establishment).where(Establishment.credit_code == credit_code.strip().upper())
                            ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"统一社会信用代码“{credit_code}”没有对应的单位", fields={"credit_code": ["不存在"]})
    return found


def grade_of(session: Session, actor: audit.Actor, establishment: Establishment, *, year: int | None = None,
             run_id: int | None = None) -> Grade:
    check_reader(session, actor, establishment)
    grade = find_grade(session, establishment.subject_id, year=year, run_id=run_id)
    if grade is None:
        which = f"{year} 年度" if year else "目前"
        raise NotFound(f"该单位{which}没有已发布的信用评价", fields={"establishment_id": ["没有评价结果"]})
    return grade


def explain(session: Session, actor: audit.Actor, establishment: Establishment, *, year: int | None = None,
            run_id: int | None = None) -> Explanation:
    grade = grade_of(session, actor, establishment, year=year, run_id=run_id)
    run = grade.run
    policies = {p.id: p for p in session.execute(select(GradingRunPolicy).where(GradingRunPolicy.run_id == run.id)).scalars()}
    own = policies[grade.policy_id]
    document = policy.parse(grading_policy.KIND, own.text, path=own.path, jurisdiction=own.jurisdiction,
                            effective_from=own.effective_from)
    rules = {r.key: r.title for r in document.value.hard_rules}
    rows = session.execute(
        select(GradeContribution, CreditRecord).join(CreditRecord, CreditRecord.id == GradeContribution.record_id)
        .where(GradeContribution.grade_id == grade.id).order_by(CreditRecord.arose_on, CreditRecord.id)).all()
    result = Explanation(establishment.id, establishment.credit_code, establishment.name, run.year, run.id, run.status,
                         grade.grade, grade.score, document.value.base, own.version, grade.hard_rule,
                         rules.get(grade.hard_rule) if grade.hard_rule else None)
    for contribution, record in rows:
        result.contributions.append(Contribution(
            record.id, record.kind, record.code, record.severity, record.title, record.arose_on, contribution.points,
            contribution.rule_key, rule_text(contribution.rule_key, contribution.points),
            policies[contribution.policy_id].version))
    return result


def as_text(e: Explanation) -> str:
    lines = [f"{e.name}（{e.credit_code}）", f"{e.year} 年度信用等级：{e.grade}　得分：{e.score}"
             f"（基础分 {e.base}）　批次 {e.run_id}（{STATUS_NAMES.get(e.run_status, e.run_status)}）",
             f"评价规则：{e.policy_version}"]
    if e.hard_rule:
        lines.append(f"否决规则：{e.hard_rule_title or e.hard_rule}（等级最高为 {e.grade}）")
    if not e.contributions:
        lines.append("计分期内没有计分记录。")
    else:
        lines.append("计分记录：")
        for c in e.contributions:
            lines.append(f"  {c.arose_on.isoformat()}  {KIND_NAMES.get(c.kind, c.kind)}  {c.title or '（无标题）'}"
                         f"  {c.rule_text}  [记录 {c.record_id}，{c.rule_key}]")
        lines.append(f"合计：{e.base} {sum(c.points for c in e.contributions):+d} → {e.score}（已按上下限截取）"
                     if e.base + sum(c.points for c in e.contributions) != e.score
                     else f"合计：{e.base} {sum(c.points for c in e.contributions):+d} = {e.score}")
    return "\n".join(lines)
