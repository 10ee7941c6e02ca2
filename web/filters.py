"""Template filters: metric values, money, shares, dates; the catalog in every template."""
from __future__ import annotations

import re
from datetime import date

from flask import Flask
from markupsafe import Markup, escape

from engine.files import human_size


def _catalog():
    from .catalog_live import live_catalog
    return live_catalog()


def not_in_data(why: str = "") -> Markup:
    """A muted label where the data lacks what a figure needs: never 0, 0% or $0."""
    return Markup('<span class="not-in-data" title="{}">not in the data</span>').format(why or "not in the data")


def metric_value(value, metric_id: str, lower_bound: bool = False, missing: dict | None = None) -> str:
    """A metric as a person reads it: 53%, $41,000, 8.2, 12 days; "not in the data" where `missing`
    (metric id -> why, the snapshot's `not_in_data`) says the data cannot give it."""
    if missing and metric_id in missing:
        return not_in_data(missing[metric_id])
    if value is None:
        return "n/a"
    text = _catalog().registry.get(metric_id).format(float(value), _catalog().pipeline.currency)
    return ("≥" if lower_bound else "") + text


def metric_title(metric_id: str) -> str:
    try:
        return _catalog().registry.get(metric_id).title
    except KeyError:
        return metric_id


def percent(value, digits: int = 0) -> str:
    return "n/a" if value is None else f"{float(value) * 100:.{digits}f}%"


def money(value) -> str:
    return "n/a" if value is None else f"${float(value):,.0f}"


def nice_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d %b %Y")


# Two different signals, worded apart wherever both appear: a goal the manager (or ops) set
# in goals.csv, and what the success plan computes the month's target needs at the rep's ratios.
RAG_WORDS = {
    "goal": ({"green": "on track to goal", "yellow": "behind goal", "red": "well behind goal"}, "no goal",
             "against the goal set"),
    "plan": ({"green": "enough for the plan", "yellow": "short of the plan", "red": "far short of the plan"}, "",
             "against what the success plan computes"),
    "coaching": ({"green": "on target", "yellow": "below target", "red": "well below target"}, "no target",
                 "against the coaching target"),
}


def rag_badge(rag: str | None, kind: str = "goal") -> Markup:
    words, none, title = RAG_WORDS[kind]
    label = words.get(rag or "", none)
    if not label:
        return Markup("")
    return Markup('<span class="rag rag-{} rag-kind-{}" title="{}">{}</span>').format(
        escape(rag or "none"), kind, title, label)


LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def evidence(text: str | None) -> Markup:
    """A rep's note: escaped, with its http and https addresses as links (nothing else becomes a link)."""
    out, last = [], 0
    text = text or ""
    for m in LINK.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        end = m.start() + len(url)
        out.append(escape(text[last:m.start()]))
        out.append(Markup('<a href="{0}" rel="nofollow noopener noreferrer" target="_blank">{0}</a>').format(url))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def register(app: Flask) -> None:
    app.add_template_filter(evidence)
    app.add_template_filter(metric_value)
    app.add_template_global(not_in_data)
    app.add_template_filter(metric_title)
    app.add_template_filter(percent)
    app.add_template_filter(money)
    app.add_template_filter(nice_date)
    app.add_template_filter(rag_badge)
    app.add_template_filter(human_size)

    @app.context_processor
    def inject():
        return {"catalog": _catalog(), "today": date.today()}
