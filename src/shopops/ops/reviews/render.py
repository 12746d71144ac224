"""A review as HTML (Jinja2, autoescaped) and as a PDF a person can forward (ReportLab, the
STSong-Light CID font for Chinese: nothing to embed, every PDF reader has it)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from shopops.ops.reviews.service import Review

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
CJK_FONT = "STSong-Light"


def render_html(review: Review) -> str:
    return _ENV.get_template("review.html").render(r=review)


def render_pdf(review: Review, path: Path) -> Path:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    h = ParagraphStyle("h", fontName=CJK_FONT, fontSize=14, leading=18)
    p = ParagraphStyle("p", fontName=CJK_FONT, fontSize=8, leading=10)
    style = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), CJK_FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ])  # fmt: skip

    def table(rows: list[list[str]]) -> Table:
        return Table([[Paragraph(str(c), p) for c in row] for row in rows], style=style)

    story = [Paragraph(review.title, h), Spacer(1, 6)]
    story.append(
        table(
            [
                ["指标 Metric", review.period.label, review.previous.label, "变化"]
                + (["目标", "达成"] if review.has_targets else [])
            ]
            + [
                [f"{k['name_zh']} {k['name_en']}", k["value"], k["previous"], k["change"]]
                + ([k["target"], k["vs_target"]] if review.has_targets else [])
                for k in review.kpis
            ]
        )
    )
    story += [Spacer(1, 8), Paragraph(f"GMV 拆解 Decomposition ({review.gmv_change})", h)]
    story.append(
        table(
            [["因素 Factor", "贡献"]]
            + [[d["factor"], d["contribution"]] for d in review.decomposition]
        )
    )
    story += [Spacer(1, 8), Paragraph("告警与归因 Alerts and attribution", h)]
    rows = [
        [a["day"], str(a["level"]), a["message"], a["attribution"], a["playbook"]]
        for a in review.alerts
    ] or [["—", "", "无告警 No alerts", "", ""]]
    story.append(table([["日 Day", "级", "告警 Alert", "归因", "处置 Playbook"], *rows]))
    SimpleDocTemplate(str(path), pagesize=landscape(A4), title=review.title).build(story)
    return path
