"""Exact re-computation of a stored run (`grade verify`).

The run is recomputed from the policy documents stored with it (never the files on disk) and
the credit records as they are now, for the subjects it graded, counting only records entered by
its `data_as_of`. Then:
- a stored policy whose text no longer matches its hash is reported;
- every subject whose stored score, grade, hard rule or policy differs from the recomputed one,
  or whose stored contributions (record, points, rule, policy, record hash) differ from the
  recomputed ones, is named with the reasons: an edited grade, an edited point, and an edited
  record (its hash changes) are all caught this way;
- a published run's digest is recomputed and compared with the one stored at publication
  (which is also in the audit chain), catching deleted or added rows;
- for a published or superseded run, the current grades of its subjects (`grades_in_force`)
  are compared with the rule (`current.disagreements`).
Nothing is written: the work happens in temporary tables and the caller rolls back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from supervision import policy
from supervision.credit.grading import current, engine, lists
from supervision.credit.grading import policy as grading_policy
from supervision.credit.grading.engine import Plan, doc_key
from supervision.credit.grading.models import GradingRunPolicy
from supervision.credit.grading.runs import build_groups, digest, get_run, _all_jurisdictions, _descendants
from supervision.policy import PolicyInvalid
from supervision.registry.models import Establishment, Jurisdiction


@dataclass
class Difference:
    subject_id: int
    establishment_id: int | None
    credit_code: str | None
    name: str | None
    reasons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        who = f"{self.name}（{self.credit_code}）" if self.credit_code else f"信用主体 {self.subject_id}"
        return f"{who}：{'；'.join(self.reasons)}"


@dataclass
class VerifyReport:
    run_id: int
    checked: int
    problems: list[str] = field(default_factory=list)  # run-wide: policy texts, digest
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.differences


def verify_run(session: Session, run_id: int, *, list_members=None) -> VerifyReport:
    run = get_run(session, run_id)
    report = VerifyReport(run.id, 0)
    stored = list(session.execute(select(GradingRunPolicy).where(GradingRunPolicy.run_id == run.id)
                                  .order_by(GradingRunPolicy.id)).scalars())
    documents, ids = [], {}
    for row in stored:
        actual = hashlib.sha256(row.text.encode("utf-8")).hexdigest()
        if actual != row.sha256:
            report.problems.append(f"评价规则 {row.version} 的文本在评价后被改动（哈希不符）")
        try:
            document = policy.parse(grading_policy.KIND, row.text, path=row.path, jurisdiction=row.jurisdiction,
                                    effective_from=row.effective_from)
        except PolicyInvalid as error:
            report.problems.append(f"评价规则 {row.version} 已无法解析：{error.message}")
            return report
        # Keep the stored hash as the document's identity, so groups map to the stored rows.
        document = policy.PolicyDocument(document.kind, document.jurisdiction, document.effective_from, document.path,
                                         document.text, row.sha256, document.value)
        documents.append(document)
        ids[doc_key(document)] = row.id
    policies = grading_policy.from_documents(documents)
    scope = session.get(Jurisdiction, run.jurisdiction_id) if run.jurisdiction_id else None
    groups = build_groups(policies, run.year, scope, _descendants(_all_jurisdictions(session), scope))
    members = list_members or (lambda name, on: lists.members(session, name, on))
    plan = Plan(run.year, run.data_as_of, groups, ids, members)

    engine.prepare(session)
    engine.subjects_from_run(session, plan, run.id)
    engine.score(session, plan, allocate_ids=False)
    report.checked = session.execute(text("SELECT COUNT(*) FROM gr_grades")).scalar_one()

    found: dict[int, Difference] = {}

    def note(subject_id: int, reason: str) -> None:
        found.setdefault(subject_id, Difference(subject_id, None, None, None)).reasons.append(reason)

    for row in session.execute(text(
            "SELECT g.subject_id, g.score, g.grade, g.hard_rule, g.policy_id, t.score, t.grade, t.hard_rule, t.policy_ref "
            "FROM grades g JOIN gr_grades t ON t.subject_id = g.subject_id WHERE g.run_id = :run AND "
            "(g.score <> t.score OR g.grade <> t.grade OR COALESCE(g.hard_rule, '') <> COALESCE(t.hard_rule, '') "
            "OR g.policy_id <> t.policy_ref) ORDER BY g.subject_id"), {"run": run.id}):
        note(row[0], f"存储的结果为 {row[2]} 级 {row[1]} 分（否决规则 {row[3] or '无'}），"
                     f"重算为 {row[6]} 级 {row[5]} 分（否决规则 {row[7] or '无'}）")
    stored_c = ("SELECT g.subject_id, c.record_id, c.points, c.rule_key, c.policy_id, c.record_hash "
                "FROM grade_contributions c JOIN grades g ON g.id = c.grade_id WHERE g.run_id = :run")
    fresh_c = "SELECT subject_id, record_id, points, rule_key, policy_ref, record_hash FROM gr_records"
    for row in session.execute(text(f"{stored_c} EXCEPT {fresh_c} ORDER BY 1, 2"), {"run": run.id}):
        note(row[0], f"记录 {row[1]}：存储的计分（{row[2]:+d} 分，{row[3]}）与记录现状重算不符"
                     f"（分值、规则或记录本身被改动，或记录已不再计分）")
    for row in session.execute(text(f"{fresh_c} EXCEPT {stored_c} ORDER BY 1, 2"), {"run": run.id}):
        note(row[0], f"记录 {row[1]}：重算计 {row[2]:+d} 分（{row[3]}），与存储的计分不同或未被存储")
    engine.drop(session)

    if found:
        info = {e.subject_id: e for e in session.execute(
            select(Establishment).where(Establishment.subject_id.in_(list(found)))).scalars()}
        for subject_id, difference in sorted(found.items()):
            est = info.get(subject_id)
            if est is not None:
                difference.establishment_id, difference.credit_code, difference.name = est.id, est.credit_code, est.name
            report.differences.append(difference)
    if run.digest is not None:
        if digest(session, run) != run.digest:
            report.problems.append("批次摘要与发布时记入审计链的摘要不符（评价结果在发布后被改动、增加或删除）")
    if run.status in ("published", "superseded"):
        wrong = current.disagreements(session, [run.id])
        if wrong:
            report.problems.append(f"现行等级表中 {len(wrong)} 个信用主体的等级与已发布的评价结果不符"
                                   f"（信用主体 {'、'.join(map(str, wrong[:10]))}{' 等' if len(wrong) > 10 else ''}），"
                                   "须由发布流程重新生成，不得手工修改")
    if sum((run.counts or {}).values()) != report.checked:
        report.problems.append(f"批次记录的评价总数 {sum((run.counts or {}).values())} 与现存评价数 {report.checked} 不符")
    return report
