"""A progress report as a standalone HTML document (the command's --format html, and the
e-mail digest): one table per group, metrics down, buckets across. Everything escaped."""
from __future__ import annotations

from html import escape

from .build import Report, _num

STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433;margin:24px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 6px}p.sub{color:#5b6577;margin:0 0 12px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #d8dee8;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f3f5f9}td.goal{color:#5b6577}"""


def bucket_label(report: Report, i: int) -> str:
    b = report.buckets[i]
    return {"day": b.strftime("%d"), "week": "wk " + b.strftime("%d %b"), "month": b.strftime("%b %Y")}[report.grain]


def fmt(value, metric: str) -> str:
    n = _num(value)
    if n is None:
        return ""
    if metric.endswith("revenue"):
        return f"${n:,.0f}"
    return f"{n:,}"


def render_html(report: Report, titles: dict[str, str], heading: str = "") -> str:
    """The report as an HTML document; `titles` names the metrics (id -> title)."""
    heading = heading or f"Progress report · {report.month}"
    table = report.table()
    head = "".join(f"<th>{escape(bucket_label(report, i))}</th>" for i in range(len(report.buckets)))
    monthly = report.grain == "month"
    extra = "" if monthly else "<th>Month to date</th>"
    goal_head = "<th>Goal</th>" if monthly else ""
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(heading)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{escape(heading)}</h1>"
             f"<p class=\"sub\">By {escape(report.by)}, by {escape(report.grain)} · "
             f"{len(report.groups)} group{'s' if len(report.groups) != 1 else ''}</p>"]
    for key, name in report.groups.itertuples(index=False, name=None):
        series = table.get(key, {})
        parts.append(f"<h2>{escape(str(name))}</h2><table><thead><tr><th>Metric</th>{head}{extra}{goal_head}"
                     f"</tr></thead><tbody>")
        for m in report.metrics:
            values = series.get(m, [])
            cells = "".join(f"<td>{escape(fmt(v, m))}</td>" for v in values)
            total = "" if monthly else f"<td>{escape(fmt(sum(v or 0 for v in values), m))}</td>"
            goal = ""
            if monthly:
                g = (series.get(f"goal.{m}") or [None])[0]
                goal = f"<td class=\"goal\">{escape(fmt(g, m))}</td>"
            parts.append(f"<tr><td>{escape(titles.get(m, m))}</td>{cells}{total}{goal}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)
