"""A year of believable credit information for the demo establishments.

For each establishment added by a demo load, the year before `today` gets: licensing records
(its licences issued in that year, a few changes), two to five inspections with mostly clean
results, and for some of them penalties (mostly warnings and small fines in the simple or
general procedure, few serious ones, very few revocations, each with its `penalties` row),
positive records (commendations, honours, verified disclosures, kept commitments), adverse
records (missed rectification deadlines, substantiated complaints), a few dishonesty records
citing the dishonesty catalogue, and bad-practice points for medical institutions. About five
records per establishment on average.

Written the way the registry demo is (`generate.py`): one seeded random stream, ids assigned
here, rows built as dicts and bulk-inserted per batch of establishments (COPY on PostgreSQL),
read back from the database in keyset batches so memory stays flat at 1,000,000. Manual and
imported records carry realistic entry dates, a few of them late (more than a month after they
arose), so `supervision credit late` has something to show.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision.credit import codes
from supervision.credit.catalogue import KIND as CATALOGUE
from supervision.credit.models import CreditRecord, Penalty
from supervision.credit.policies import Policies
from supervision.registry.models import Establishment, Jurisdiction, Licence

WINDOW_DAYS = 365
PENALTY_SHARE = 0.13  # establishments with at least one penalty in the year
PENALTY_TYPES = (("warning", 44), ("fine", 40), ("confiscation", 6), ("suspension", 5), ("other", 4),
                 ("licence_revocation", 1))
SERIOUS_SHARE = 0.04  # of general-procedure penalties
POSITIVE = (("commitment_kept", 45), ("voluntary_disclosure", 25), ("commendation", 20), ("honour", 10))
INSPECTION_SEVERITY = (("none", 62), ("minor", 24), ("general", 11), ("serious", 3))
LEGAL_BASIS = {
    "medical": "《医疗机构管理条例》第四十七条",
    "blood_station": "《血站管理办法》第五十九条",
    "drinking_water": "《生活饮用水卫生监督管理办法》第二十六条",
    "school": "《学校卫生工作条例》第三十三条",
    "occupational_health": "《中华人民共和国职业病防治法》第七十一条",
    "radiation": "《放射诊疗管理规定》第三十八条",
    "disinfection_products": "《消毒管理办法》第四十七条",
    "water_products": "《生活饮用水卫生监督管理办法》第二十七条",
    "tableware_disinfection": "《中华人民共和国传染病防治法》第七十三条",
}
PUBLIC_PLACE_BASIS = "《公共场所卫生管理条例实施细则》第三十六条"
OFFENCES = {
    "medical": ("使用非卫生技术人员从事医疗卫生技术工作", "超出登记的诊疗科目范围开展诊疗活动", "医疗废物未分类收集"),
    "public": ("从业人员未取得有效健康合格证明上岗", "未按规定对顾客用品用具进行清洗消毒", "卫生检测不合格"),
    "other": ("未按规定开展卫生检测", "卫生管理制度不健全", "未建立卫生管理档案"),
}
DEPARTMENTS = ("南京市市场监督管理局", "南京市生态环境局", "南京市医疗保障局", "南京市消防救援支队")


def _weighted(rng: random.Random, pairs) -> str:
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, weight in pairs:
        x -= weight
        if x < 0:
            return value
    return pairs[-1][0]


@dataclass
class CreditDemoSummary:
    records: int = 0
    penalties: int = 0
    by_kind: dict | None = None


class _Maker:
    def __init__(self, rng: random.Random, today: date, now: datetime, units: dict[int, Jurisdiction],
                 catalogue: list, first_record_id: int, first_penalty_id: int):
        self.rng, self.today, self.now, self.units = rng, today, now, units
        self.start = today - timedelta(days=WINDOW_DAYS)
        self.catalogue = catalogue
        self.record_id, self.penalty_id = first_record_id, first_penalty_id
        self.records: list[dict] = []
        self.penalties: list[dict] = []
        self.by_kind: dict[str, int] = {}

    def day(self) -> date:
        return self.start + timedelta(days=int(self.rng.random() * WINDOW_DAYS))

    def entered(self, arose: date, late_share: float) -> datetime:
        if self.rng.random() < late_share:
            delay = 32 + int(self.rng.random() * 90)
        else:
            delay = int(self.rng.random() * 20)
        moment = datetime.combine(arose + timedelta(days=delay), time(2, 0)) + timedelta(minutes=int(self.rng.random() * 480))
        # Never after the load's "today" (nor after the real now, should "today" be ahead).
        return min(moment, datetime.combine(self.today, time(1, 0)), self.now)

    def add(self, subject_id, unit_id, kind, code, severity, title, arose, *, source_type="demo", channel="system",
            legal_basis=None, points=None, department=None, entered_at=None, entered_by="system:demo",
            source_ref=None) -> int:
        rid = self.record_id
        self.record_id += 1
        self.records.append({
            "id": rid, "subject_id": subject_id, "kind": kind, "code": code, "severity": severity,
            "status": "effective", "title": title, "legal_basis": legal_basis, "practice_points": points,
            "source_type": source_type, "source_ref": source_ref or f"demo-{rid}", "producing_unit_id": unit_id,
            "producing_department": department, "channel": channel, "arose_on": arose,
            "entered_at": entered_at or datetime.combine(arose, time(9, 0)), "entered_by": entered_by,
            "reason": None, "details": {}, "superseded_at": None,
        })
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        return rid

    def establishment(self, eid, subject_id, unit_id, category, status, licences) -> None:
        rng = self.rng
        scale = 0.5 if status == "closed" else 1.0
        group = "medical" if category in ("medical", "blood_station") else (
            "public" if category in ("accommodation", "bathing", "swimming", "beauty_hairdressing") else "other")
        basis = LEGAL_BASIS.get(category, PUBLIC_PLACE_BASIS)
        # Licensing: each licence issued in the year, and now and then a change.
        for kind, issued in licences:
            if issued >= self.start:
                code = "licence_renewed" if rng.random() < 0.4 else "licence_granted"
                self.add(subject_id, unit_id, "licensing", code, "none",
                         f"{'许可延续' if code == 'licence_renewed' else '准予许可'}：{kind}", issued, channel="exchange")
        if rng.random() < 0.12 * scale:
            self.add(subject_id, unit_id, "licensing", "licence_changed", "none", "许可变更：法定代表人或地址变更",
                     self.day(), channel="exchange")
        # Inspections: 2 to 6 a year.
        for _ in range(int((2.6 + rng.random() * 4) * scale)):
            severity = _weighted(rng, INSPECTION_SEVERITY)
            findings = 0 if severity == "none" else 1 + int(rng.random() * 3)
            title = ("监督检查：未发现问题" if not findings else
                     f"监督检查：发现 {findings} 项问题（最严重：{codes.SEVERITY_NAMES[severity]}）")
            self.add(subject_id, unit_id, "inspection", "inspection", severity, title, self.day(),
                     channel="handheld_terminal", source_type="demo")
        # Penalties.
        if rng.random() < PENALTY_SHARE * scale:
            for _ in range(1 if rng.random() < 0.85 else 2):
                self.penalty(eid, subject_id, unit_id, group, basis)
        # Positive information.
        if rng.random() < 0.22:
            code = _weighted(rng, POSITIVE)
            titles = {"commitment_kept": "践行信用承诺，检查中承诺事项全部兑现",
                      "voluntary_disclosure": "自愿申报卫生管理信息，经核实无误",
                      "commendation": "获区卫生健康委通报表扬", "honour": "获评市级卫生先进单位"}
            arose = self.day()
            self.add(subject_id, unit_id, "positive", code, "none", titles[code], arose, source_type="manual",
                     channel="manual", entered_at=self.entered(arose, 0.06), entered_by="demo:张科长")
        # Adverse information.
        if rng.random() < 0.12 * scale:
            arose = self.day()
            if rng.random() < 0.6:
                self.add(subject_id, unit_id, "adverse", "rectification_overdue", "general",
                         "逾期未完成整改", arose, source_type="demo")
            else:
                self.add(subject_id, unit_id, "adverse", "complaint_substantiated", "minor",
                         "投诉举报经查属实", arose, source_type="manual", channel="manual",
                         entered_at=self.entered(arose, 0.1), entered_by="demo:李科员")
        # Dishonesty, from the catalogue; mostly from other departments.
        if self.catalogue and rng.random() < 0.012:
            entry = self.catalogue[int(rng.random() * len(self.catalogue))]
            arose = self.day()
            self.add(subject_id, unit_id, "dishonesty", entry.code, entry.severity, entry.name, arose,
                     source_type="import", channel="exchange", legal_basis=entry.legal_basis,
                     department=DEPARTMENTS[int(rng.random() * len(DEPARTMENTS))],
                     entered_at=self.entered(arose, 0.15), entered_by="system:demo-import")
        # Bad-practice points of medical institutions.
        if category == "medical" and rng.random() < 0.3:
            points = 1 + int(rng.random() * rng.choice((3, 6, 12)))
            severity = "minor" if points <= 3 else ("general" if points <= 6 else "serious")
            self.add(subject_id, unit_id, "bad_practice_points", "bad_practice", severity,
                     f"不良执业行为记分 {points} 分：{OFFENCES['medical'][int(rng.random() * 3)]}", self.day(),
                     points=points, legal_basis="《医疗机构不良执业行为记分管理办法》", source_type="manual",
                     channel="manual", entered_at=None, entered_by="demo:王主任")
        if rng.random() < 0.01 * scale:
            self.add(subject_id, unit_id, "coercive_measure", "coercive_measure", "general",
                     "行政强制：查封、扣押涉嫌违法物品", self.day())

    def penalty(self, eid, subject_id, unit_id, group, basis) -> None:
        rng = self.rng
        penalty_type = _weighted(rng, PENALTY_TYPES)
        simple_possible = penalty_type in ("warning", "fine")
        procedure = "simple" if simple_possible and rng.random() < 0.45 else "general"
        amount = None
        if penalty_type == "fine":
            amount = (rng.choice((200, 500, 1000, 2000, 3000)) if procedure == "simple"
                      else rng.choice((3000, 5000, 10000, 20000, 30000, 50000)))
        elif penalty_type == "confiscation":
            amount = 500 + int(rng.random() * 20000)
        # 情节严重: never a warning; always a revocation.
        serious = procedure == "general" and penalty_type != "warning" and (
            penalty_type == "licence_revocation" or rng.random() < SERIOUS_SHARE * 2)
        decided = self.day()
        unit = self.units[unit_id]
        decision_no = f"{unit.name[:2]}卫罚〔{decided.year}〕{self.penalty_id}号"
        offence = OFFENCES[group][int(rng.random() * len(OFFENCES[group]))]
        kind_name = codes.PENALTY_TYPE_NAMES[penalty_type]
        money = f" {amount:,} 元" if amount else ""
        rid = self.add(subject_id, unit_id, "penalty", penalty_type, codes.penalty_severity(procedure, serious),
                       f"行政处罚：{kind_name}{money}{'（情节严重）' if serious else ''}（{decision_no}）", decided,
                       source_type="penalty", source_ref=f"{unit.code}:{decision_no}", legal_basis=basis)
        fulfilled = None
        if rng.random() < 0.75:
            fulfilled = min(decided + timedelta(days=int(rng.random() * 30)), self.today)
        self.penalties.append({
            "id": self.penalty_id, "decision_no": decision_no, "issuing_unit_id": unit_id, "decided_on": decided,
            "penalty_type": penalty_type, "amount_fen": amount * 100 if amount else None, "procedure": procedure,
            "serious": serious, "legal_basis": basis, "case_summary": offence, "fulfilled_on": fulfilled,
            "penalty_case_id": None, "establishment_id": eid, "credit_record_id": rid, "decided_by": "demo:张科长",
            "created_at": datetime.combine(decided, time(9, 0)),
        })
        self.penalty_id += 1


def _insert(session: Session, table, rows: list[dict]) -> None:
    from supervision.demo.generate import bulk_insert

    connection = session.connection()
    if rows and connection.dialect.name == "postgresql" and "details" in rows[0]:
        rows = [dict(row, details=json.dumps(row["details"])) for row in rows]  # COPY takes JSON as text
    bulk_insert(session, table, rows)


def load_credit(session: Session, ids, *, seed: int, first_id: int | None, last_id: int | None, today: date,
                now: datetime, batch_size: int, progress=None) -> CreditDemoSummary:
    """Credit information for the establishments with ids first_id..last_id (the ones this load
    added), in the caller's transaction."""
    summary = CreditDemoSummary(by_kind={})
    if first_id is None:
        return summary
    rng = random.Random(f"demo-credit:{seed}:{first_id}")
    units = {j.id: j for j in session.execute(select(Jurisdiction)).scalars()}
    catalogue_doc = Policies(session).resolve(CATALOGUE, None, today)
    catalogue = sorted(catalogue_doc.value.entries.values(), key=lambda e: e.code)
    rt, pt, et, lt = CreditRecord.__table__, Penalty.__table__, Establishment.__table__, Licence.__table__
    maker = _Maker(rng, today, now, units, catalogue, ids.peek(rt), ids.peek(pt))
    after = first_id - 1
    while after < last_id:
        upper = min(after + batch_size, last_id)
        establishments = session.execute(
            select(et.c.id, et.c.subject_id, et.c.jurisdiction_id, et.c.category_code, et.c.status)
            .where(et.c.id > after, et.c.id <= upper).order_by(et.c.id)).all()
        licences: dict[int, list] = {}
        for eid, kind, issued in session.execute(
                select(lt.c.establishment_id, lt.c.kind, lt.c.issued_on)
                .where(lt.c.establishment_id > after, lt.c.establishment_id <= upper).order_by(lt.c.id)):
            licences.setdefault(eid, []).append((kind, issued))
        for eid, subject_id, unit_id, category, status in establishments:
            maker.establishment(eid, subject_id, unit_id, category, status, licences.get(eid, []))
        _insert(session, rt, maker.records)
        _insert(session, pt, maker.penalties)
        summary.records += len(maker.records)
        summary.penalties += len(maker.penalties)
        maker.records, maker.penalties = [], []
        after = upper
        if progress:
            progress(f"credit records {summary.records:,} (establishments up to {upper:,})")
    ids.take(rt, maker.record_id - ids.peek(rt))
    ids.take(pt, maker.penalty_id - ids.peek(pt))
    summary.by_kind = dict(sorted(maker.by_kind.items()))
    return summary
