"""A bar chart of compliance by village, drawn as inline SVG on the server (no CDN, no JS)."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from plugins.training.services import MonthlyCompliance

GREEN = "#28a745"
RED = "#dc3545"
GREY = "#adb5bd"


def village_chart(report: MonthlyCompliance, *, width: int = 560, bar: int = 18) -> Markup:
    """Horizontal bars: the share of each village's learners meeting every threshold.

    A bar is red when the village is behind (a learner behind or too few study
    days), green otherwise; a village without learners shows a grey "no learners".
    """
    units = report.villages
    label_width = 120
    plot = width - label_width - 150
    height = max(len(units), 1) * (bar + 8) + 8
    title = _("Compliance by village, %(y)s-%(m)s", y=report.year, m=f"{report.month:02d}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="training-chart" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    if not units:
        empty = _("No villages.")
        parts.append(f'<text x="4" y="20" font-size="13">{escape(empty)}</text>')
    for i, unit in enumerate(units):
        y = 8 + i * (bar + 8)
        pct = unit.compliant_pct
        behind = bool(unit.shortfalls) or (pct is not None and pct < 100)
        colour = GREY if pct is None else (RED if behind else GREEN)
        length = 0 if pct is None else max(plot * pct / 100, 2)
        caption = (
            _("no learners")
            if pct is None
            else f"{pct:g}% · {unit.study_days:g}/{unit.required_days:g} " + _("days")
        )
        parts.append(
            f'<g data-village="{unit.unit_id}" data-behind="{int(behind)}">'
            f'<text x="{label_width - 6}" y="{y + bar - 5}" font-size="13" '
            f'text-anchor="end">{escape(unit.name)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" '
            f'fill="{colour}"></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar - 5}" '
            f'font-size="12">{escape(caption)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
