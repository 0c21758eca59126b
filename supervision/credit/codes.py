"""The vocabulary of credit records: which sub-kinds (`code`) and severities each kind allows,
and their Chinese names.

Shared with the grading side, which scores records by kind, code and severity. Dishonesty codes
are not listed here: they are the entries of the dishonesty catalogue (policy data, see
`catalogue.py`), which a province may extend.
"""
from __future__ import annotations

from supervision.credit.models import CREDIT_KINDS, PENALTY_TYPES, RECORD_STATUSES, SEVERITIES

KIND_NAMES = {
    "licensing": "行政许可",
    "inspection": "行政检查",
    "penalty": "行政处罚",
    "coercive_measure": "行政强制",
    "levy": "行政征收",
    "requisition": "行政征用",
    "positive": "增信信息",
    "adverse": "不良信息",
    "dishonesty": "失信信息",
    "bad_practice_points": "不良执业行为记分",
}
SEVERITY_NAMES = {"none": "无", "minor": "轻微", "general": "一般", "serious": "严重"}
STATUS_NAMES = {"effective": "有效", "under_objection": "异议审核中", "corrected": "已更正", "revoked": "已撤销",
                "repaired": "已信用修复"}
PENALTY_TYPE_NAMES = {
    "warning": "警告",
    "fine": "罚款",
    "confiscation": "没收违法所得、没收非法财物",
    "suspension": "责令停产停业、暂扣许可证",
    "licence_revocation": "吊销许可证",
    "other": "其他行政处罚",
}
PROCEDURE_NAMES = {"simple": "简易程序", "general": "普通程序"}

# Sub-kinds per kind; None means "the dishonesty catalogue decides".
CODES: dict[str, dict[str, str] | None] = {
    "licensing": {"licence_granted": "准予行政许可", "licence_renewed": "许可延续", "licence_changed": "许可变更"},
    "inspection": {"inspection": "监督检查"},
    "penalty": PENALTY_TYPE_NAMES,
    "coercive_measure": {"coercive_measure": "行政强制措施"},
    "levy": {"levy": "行政征收"},
    "requisition": {"requisition": "行政征用"},
    "positive": {"commendation": "表彰", "honour": "荣誉称号", "voluntary_disclosure": "自愿申报（已核实）",
                 "commitment_kept": "践行信用承诺"},
    "adverse": {"rectification_overdue": "逾期未完成整改", "complaint_substantiated": "投诉举报查实",
                "other": "其他不良信息"},
    "dishonesty": None,
    "bad_practice_points": {"bad_practice": "不良执业行为记分"},
}
# Severities each kind may carry. Neutral and positive facts carry none; a penalty's severity
# is its procedure (simple → minor, general → general, serious → serious).
ALLOWED_SEVERITIES: dict[str, tuple[str, ...]] = {
    "licensing": ("none",),
    "inspection": SEVERITIES,
    "penalty": ("minor", "general", "serious"),
    "coercive_measure": SEVERITIES,
    "levy": ("none",),
    "requisition": ("none",),
    "positive": ("none",),
    "adverse": ("minor", "general", "serious"),
    "dishonesty": ("minor", "general", "serious"),
    "bad_practice_points": ("minor", "general", "serious"),
}
# Where a record came from. "manual" and "import" are the ones whose lateness counts.
SOURCE_TYPES = ("inspection", "penalty", "rectification_order", "manual", "import", "demo", "self_report")
CHANNELS = ("handheld_terminal", "manual", "exchange", "system")
LATE_SOURCE_TYPES = ("manual", "import")

assert set(CODES) == set(CREDIT_KINDS) == set(ALLOWED_SEVERITIES)
assert set(PENALTY_TYPE_NAMES) == set(PENALTY_TYPES) and set(STATUS_NAMES) == set(RECORD_STATUSES)


def penalty_severity(procedure: str, serious: bool) -> str:
    """A penalty record's severity from its procedure (the shared contract)."""
    if serious:
        return "serious"
    return "minor" if procedure == "simple" else "general"
