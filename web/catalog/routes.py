"""The catalog, read by everyone signed in (managers use the learning library);
the coverage report and the insights (aggregates only) for enablement, ops, trainers and admins."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask_login import login_required
from markupsafe import Markup

from engine.catalog.check import CheckReport, check_catalog
from engine.catalog.model import Source
from engine.catalog.specs import AllOf, AnyOf, BenchmarkKind
from engine.files import read_text

from ..extensions import db
from ..filters import metric_title, metric_value
from ..markdown import render as render_markdown
from ..models import CATALOG_ROLES, Assignment, CoachingPlan, PlanStatus, RepSnapshot
from ..security import current_dataset, roles_required
from ..store import catalog
from .forms import LibraryFilterForm

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
catalog_roles = roles_required(*CATALOG_ROLES)

BENCHMARK_TITLES = {
    BenchmarkKind.team_median: "the team median", BenchmarkKind.team_top_quartile: "the team's top quartile",
    BenchmarkKind.division_median: "the division median", BenchmarkKind.company_median: "the company median",
    BenchmarkKind.company_top_quartile: "the company's top quartile",
    BenchmarkKind.team_upper_quartile: "the team's upper quartile (by value)",
    BenchmarkKind.team_lower_quartile: "the team's lower quartile (by value)",
    BenchmarkKind.company_upper_quartile: "the company's upper quartile (by value)",
    BenchmarkKind.company_lower_quartile: "the company's lower quartile (by value)",
    BenchmarkKind.industry: "the industry figure", BenchmarkKind.plan: "the rep's own plan",
}
BOUND_WORDS = {"above": "above", "below": "below", "at_least": "at least", "at_most": "at most"}


@bp.get("/")
@login_required
def index():
    return render_template("catalog/index.html", section="index")


@bp.get("/behaviour")
@login_required
def behaviour_gaps():
    by_role = {r.id: [g for g in catalog().behaviour_gaps.values() if r.id in g.roles]
               for r in catalog().pipeline.roles}
    return render_template("catalog/behaviour_gaps.html", section="behaviour", by_role=by_role)


@bp.get("/behaviour/<gap_id>")
@login_required
def behaviour_gap(gap_id: str):
    gap = catalog().behaviour_gaps.get(gap_id) or abort(404)
    flow = catalog().flows.get(gap_id)
    questions = {q.id: q for q in flow.questions} if flow else {}
    return render_template("catalog/behaviour_gap.html", section="behaviour", gap=gap, flow=flow,
                           questions=questions, source=_source(f"flow:{gap_id}"))


@bp.get("/performance")
@login_required
def performance_gaps():
    explained_by = defaultdict(list)
    for b in catalog().behaviour_gaps.values():
        for p in b.explains:
            explained_by[p].append(b)
    return render_template("catalog/performance_gaps.html", section="performance", explained_by=explained_by)


@bp.get("/root-causes")
@login_required
def root_causes():
    flows_for = defaultdict(list)
    for gap_id, flow in catalog().flows.items():
        for skill_id in flow.candidates:
            flows_for[skill_id].append(catalog().behaviour_gaps[gap_id])
    return render_template("catalog/root_causes.html", section="root_causes", flows_for=flows_for)


@bp.get("/thresholds")
@login_required
def thresholds():
    own_gaps = [g for g in catalog().gaps.values() if g.min_gap is not None or g.compare_to]
    return render_template("catalog/thresholds.html", section="thresholds", own_gaps=own_gaps,
                           files={"thresholds": "rules/thresholds.yaml", "pipeline": "rules/pipeline.yaml"})


@bp.get("/library")
@login_required
def library():
    form = LibraryFilterForm(request.args, skills=catalog().skills, roles=catalog().pipeline.roles)
    assets = [a for a in catalog().assets.values() if form.keeps(a)] if form.validate() else []
    by_skill = {sid: [a for a in assets if sid in a.addresses] for sid in catalog().skills}
    shown = form.skill.data or None
    return render_template("catalog/library.html", section="library", form=form, assets=assets,
                           by_skill={k: v for k, v in by_skill.items() if v and (not shown or k == shown)})


@bp.get("/assignments")
@login_required
def assignment_templates():
    return render_template("catalog/assignments.html", section="assignments")


@bp.get("/assets/<asset_id>")
@login_required
def asset(asset_id: str):
    item = catalog().assets.get(asset_id) or abort(404)
    if item.url:
        return redirect(item.url)
    return render_template("catalog/asset.html", section="library", asset=item, body=_rendered(item))


@bp.get("/coverage")
@catalog_roles
def coverage():
    return render_template("catalog/coverage.html", section="coverage", report=check_report())


@bp.get("/insights")
@catalog_roles
def insights():
    ds = current_dataset()
    return render_template("catalog/insights.html", section="insights", ds=ds, focus=focus_counts(ds),
                           plans=plan_outcomes(), assignments=assignment_rates(date.today()))


# --------------------------------------------------------------------------- helpers for the pages

@bp.context_processor
def helpers():
    return {"describe": describe_condition, "benchmark_title": benchmark_title, "source_of": _source,
            "says": says,
            "skill_title": lambda sid: catalog().skills[sid].title if sid in catalog().skills else sid}


def says(template: str) -> str:
    """An evidence sentence with its placeholders named: "{value:.0%} of..." -> "[value] of..."."""
    return re.sub(r"\{(\w+)(:[^}]*)?\}", r"[\1]", template)


def benchmark_title(kind) -> str:
    return BENCHMARK_TITLES.get(BenchmarkKind(kind), str(kind))


def describe_condition(cond) -> dict:
    """An evidence condition as words: {"text": ...} or {"join": "all"/"any", "items": [...]}."""
    if isinstance(cond, AllOf):
        return {"join": "all", "items": [describe_condition(c) for c in cond.all]}
    if isinstance(cond, AnyOf):
        return {"join": "any", "items": [describe_condition(c) for c in cond.any]}
    parts = []
    for word, bound in cond.bounds():
        if isinstance(bound, BenchmarkKind):
            margin = f" by more than {cond.by:.0%}" if cond.by else ""
            parts.append(f"{BOUND_WORDS[word]} {benchmark_title(bound)}{margin}")
        else:
            try:
                parts.append(f"{BOUND_WORDS[word]} {metric_value(bound, cond.metric)}")
            except KeyError:
                parts.append(f"{BOUND_WORDS[word]} {bound:g}")
    return {"text": f"{metric_title(cond.metric)} is {' and '.join(parts)}", "metric": cond.metric}


def _source(key: str) -> Source | None:
    return catalog().sources.get(key)


def _rendered(item) -> Markup:
    """A shipped Markdown asset as HTML, rendered once per catalog version."""
    cache = current_app.extensions.setdefault("fairway.catalog_pages", {})
    key = (catalog().version, item.id)
    if key not in cache:
        root = (catalog().root / "learning_library").resolve()
        path = catalog().asset_path(item)
        # the loader checked it; read it again under the same path policy (it may have changed)
        text, problems = read_text(path, item.file, limit_name="markdown_file")
        if text is None or root not in path.resolve().parents:
            abort(404)
        cache[key] = render_markdown(text)
    return cache[key]


def check_report() -> CheckReport:
    """engine.catalog.check's report of the loaded catalog, made once per catalog version."""
    cache = current_app.extensions.setdefault("fairway.catalog_check", {})
    if catalog().version not in cache:
        cache[catalog().version] = check_catalog(Path(catalog().root))
    return cache[catalog().version]


# --------------------------------------------------------------------------- insights: aggregates only

def focus_counts(ds) -> dict:
    """Per rep role: reps, and how many have each focus behaviour gap and root cause (no names)."""
    if ds is None:
        return {}
    rows = db.session.execute(
        db.select(RepSnapshot.role, RepSnapshot.focus_gap, RepSnapshot.focus_skill, db.func.count(RepSnapshot.id))
        .where(RepSnapshot.dataset_id == ds.id)
        .group_by(RepSnapshot.role, RepSnapshot.focus_gap, RepSnapshot.focus_skill)).all()
    out: dict = {}
    for role, gap, skill, n in rows:
        entry = out.setdefault(role, {"reps": 0, "no_focus": 0, "gaps": Counter(), "skills": Counter()})
        entry["reps"] += n
        if gap is None:
            entry["no_focus"] += n
            continue
        entry["gaps"][gap] += n
        entry["skills"][skill or ""] += n
    return dict(sorted(out.items()))


def plan_outcomes() -> list[dict]:
    """Plans per skill: how many, how many still active, and the achieved share of those closed."""
    rows = db.session.execute(db.select(CoachingPlan.skill_id, CoachingPlan.status, db.func.count(CoachingPlan.id))
                              .group_by(CoachingPlan.skill_id, CoachingPlan.status)).all()
    per: dict = defaultdict(Counter)
    for skill, status, n in rows:
        per[skill][status] += n
    out = []
    for skill, c in per.items():
        closed = c[PlanStatus.achieved.value] + c[PlanStatus.not_achieved.value]
        out.append({"skill": skill, "plans": sum(c.values()), "active": c[PlanStatus.active.value],
                    "achieved": c[PlanStatus.achieved.value], "not_achieved": c[PlanStatus.not_achieved.value],
                    "abandoned": c[PlanStatus.abandoned.value],
                    "achieved_share": c[PlanStatus.achieved.value] / closed if closed else None})
    return sorted(out, key=lambda r: (-r["plans"], r["skill"]))


def assignment_rates(today: date) -> dict:
    """Completion rate of assignments (cancelled ones left out), per kind and overall, and overdue."""
    rows = db.session.execute(
        db.select(Assignment.kind, Assignment.status, Assignment.due_on < today, db.func.count(Assignment.id))
        .where(Assignment.status != "cancelled")
        .group_by(Assignment.kind, Assignment.status, Assignment.due_on < today)).all()
    kinds: dict = defaultdict(Counter)
    for kind, status, past_due, n in rows:
        for key in (kind, "all"):
            kinds[key]["total"] += n
            kinds[key]["completed"] += n if status == "completed" else 0
            kinds[key]["overdue"] += n if status == "open" and past_due else 0
    return {k: {**c, "rate": c["completed"] / c["total"] if c["total"] else None}
            for k, c in sorted(kinds.items(), key=lambda kv: kv[0] == "all")}
