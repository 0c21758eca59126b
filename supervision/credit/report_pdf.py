"""The credit report as a paginated PDF in Chinese (fpdf2 with Noto Sans CJK SC).

The font comes from the `noto-cjk-sans-otc` package (index 2 of the collection is Simplified
Chinese), so the app needs no system fonts. Every page carries the report number and
"第 N 页 / 共 M 页"; the last section gives the verification URL and how to use it.

The font is the one loader of `supervision.documents.pdf` (parsed once per process).
"""
from __future__ import annotations

from fpdf import FPDF

from supervision.credit.grading.explain import STATUS_NAMES
from supervision.documents.pdf import FAMILY, add_chinese_font


class _ReportPDF(FPDF):
    def __init__(self, number: str):
        super().__init__(format="A4")
        self.number = number
        add_chinese_font(self)
        self.set_auto_page_break(auto=True, margin=20)
        self.alias_nb_pages("{nb}")
        self.set_title(f"信用报告 {number}")
        self.set_creator("health-supervision")

    def header(self):
        self.set_font(FAMILY, size=8)
        self.set_text_color(110)
        self.cell(0, 6, f"信用报告　编号 {self.number}", align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.ln(2)

    def footer(self):
        self.set_y(-14)
        self.set_font(FAMILY, size=8)
        self.cell(0, 8, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FAMILY, size=13)
    pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FAMILY, size=10)


def _line(pdf: FPDF, text: str, size: int = 10) -> None:
    pdf.set_font(FAMILY, size=size)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def render(content) -> tuple[bytes, int]:
    """(the PDF, its page count) for a `report.ReportContent`."""
    e = content.establishment
    pdf = _ReportPDF(content.number)
    pdf.add_page()
    pdf.set_font(FAMILY, size=20)
    pdf.cell(0, 14, "信 用 报 告", align="C", new_x="LMARGIN", new_y="NEXT")
    _line(pdf, f"报告编号：{content.number}")
    _line(pdf, f"出具时间：{content.issued_at:%Y-%m-%d %H:%M}（UTC）　信息截至：{content.on.isoformat()}")
    _line(pdf, f"核验地址：{content.verify_url}")

    _heading(pdf, "一、基本信息")
    for label, value in (("单位名称", e.name), ("统一社会信用代码", e.credit_code), ("单位类别", content.category_name),
                         ("地址", e.address), ("法定代表人/负责人", e.legal_representative),
                         ("监管辖区", content.jurisdiction_name)):
        _line(pdf, f"{label}：{value}")

    _heading(pdf, "二、信用等级及评价说明")
    if not content.grades:
        _line(pdf, "尚无已发布的信用等级评价结果。")
    for g in content.grades:
        _line(pdf, f"{g.year} 年度：等级 {g.grade}，得分 {g.score}（基础分 {g.base}；"
                   f"{STATUS_NAMES.get(g.run_status, g.run_status)}；评价规则 {g.policy_version.split('#')[0]}）", 11)
        if g.hard_rule:
            _line(pdf, f"　　否决规则：{g.hard_rule_title or g.hard_rule}")
        if not g.contributions:
            _line(pdf, "　　计分期内没有计分记录。")
        for c in g.contributions:
            _line(pdf, f"　　{c.arose_on.isoformat()}　{c.title or '（无标题）'}　{c.rule_text}")

    _heading(pdf, "三、公示信息")
    if not content.records:
        _line(pdf, "目前没有处于公示期内的信用信息。")
    for r in content.records:
        mark = "【异议审核中】" if r.under_review else ""
        _line(pdf, f"{r.arose_on.isoformat()}　{r.kind}·{r.severity}　{r.title}　{mark}{r.note}")

    _heading(pdf, "四、名单情况")
    _line(pdf, "列入：" + "、".join(content.lists) if content.lists else "未列入守信红名单或失信黑名单。")

    _heading(pdf, "五、适用的激励和惩戒措施")
    if not content.measures:
        _line(pdf, "没有适用的激励或惩戒措施。")
    for m in content.measures:
        label = "激励" if m.measure.type == "reward" else "惩戒"
        _line(pdf, f"［{label}］{m.measure.title}　依据：{m.because}"
                   + (f"（{m.measure.basis}）" if m.measure.basis else ""))

    _heading(pdf, "六、报告核验")
    _line(pdf, f"本报告仅包含已公开的信用信息。核验真伪请访问 {content.verify_url}，"
               "核对报告编号、单位名称、出具时间及本文件的 SHA-256 值。")
    data = bytes(pdf.output())
    return data, pdf.pages_count
