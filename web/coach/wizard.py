"""The diagnostic conversation's logic behind the views: which step, what each step shows,
and saving each step. The dialogue itself is engine.dialogue (pure); this module keeps
its state on the CoachingSession as JSON and reads the rep from their snapshot."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from engine.dialogue import conversation as dialogue
from engine.catalog.model import Catalog
from engine.catalog.specs import BehaviourGap, BenchmarkKind
from engine.diagnosis.diagnose import BENCHMARK_LABEL, Finding, RepDiagnosis
from engine.errors import DialogueError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from ..extensions import db
from ..models import (Assignment, AssignmentKind, CoachingPlan, CoachingSession, Dataset, RepSnapshot,
                      SessionType, User)
from ..security import current_dataset, scoped
from .prework import prefill

STEPS = (("reflection", "Reflection"), ("goals", "Goals & success plan"), ("gap", "The gap"),
         ("questions", "Questions"), ("causes", "Root cause"), ("actions", "Corrective actions"),
         ("plan", "The plan"))
STEP_IDS = tuple(s for s, _ in STEPS)
SESSION_TYPES = {SessionType.development.value: "Development", SessionType.opportunity.value: "Opportunity",
                 SessionType.funnel.value: "Funnel", SessionType.account.value: "Account",
                 SessionType.joint_call.value: "Joint call"}
LEARNING_DUE_DAYS = 7
FOLLOW_UP_DAYS = 14
CUSTOM = "custom"          # ref_id of a selling assignment the manager writes themselves

# seed 001: "great questions to ask at every coaching session"
EVERY_SESSION_QUESTIONS = (
    "What are you trying to achieve?",
    "What would it mean to you personally if you were to achieve this?",
    "What are your short-term and daily activity goals?",
    "What exactly is going on in this specific situation? Why do you think this is happening?",
    "What could you change about yourself that would bring out the best in you?",
    "What stands in the way of achieving your goals?",
    "What do you think is the best option for solving this?",
    "When should we meet to look at your progress?",
)
BENCHMARK_KEYS = {BenchmarkKind.team_median: "team", BenchmarkKind.division_median: "division",
                  BenchmarkKind.company_median: "company", BenchmarkKind.team_top_quartile: "team_top_quartile",
                  BenchmarkKind.company_top_quartile: "company_top_quartile",
                  BenchmarkKind.industry: "industry", BenchmarkKind.plan: "plan"}


# --------------------------------------------------------------------------- the rep

def rep_diagnosis(snapshot: RepSnapshot) -> RepDiagnosis:
    """The stored diagnosis, or an empty one (no focus, no findings) when there is none."""
    if snapshot.diagnosis:
        return RepDiagnosis.from_dict(snapshot.diagnosis)
    return RepDiagnosis(rep_id=snapshot.rep_id, name=snapshot.name, role=snapshot.role, team=snapshot.team,
                        focus=None, findings=())


def snapshot_for(session: CoachingSession) -> RepSnapshot | None:
    """The rep as in the session's dataset, else as in the current one."""
    for ds_id in (session.dataset_id, getattr(current_dataset(), "id", None)):
        if ds_id is None:
            continue
        snap = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds_id,
                                                               RepSnapshot.rep_id == session.rep_id)
                                  ).scalar_one_or_none()
        if snap is not None:
            return snap
    return None


def metric_value(snapshot: RepSnapshot | None, metric: str) -> float | None:
    entry = ((snapshot.metrics or {}).get("metrics") or {}).get(metric) if snapshot else None
    return entry.get("value") if isinstance(entry, dict) else None


def benchmark_value(cat: Catalog, snapshot: RepSnapshot, gap: BehaviourGap | None, metric: str
                    ) -> tuple[float | None, str]:
    """The value a metric is compared with for this rep: the gap's benchmarks in order, else the team."""
    kinds = cat.benchmarks_of(gap) if gap is not None else []
    benchmarks = (snapshot.metrics or {}).get("benchmarks") or {}
    for kind in [*kinds, BenchmarkKind.team_median]:
        value = (benchmarks.get(BENCHMARK_KEYS.get(kind, "")) or {}).get(metric)
        if value is not None:
            return value, BENCHMARK_LABEL[kind.value]
    return None, ""


@dataclass(frozen=True)
class GapView:
    """A behaviour gap as the manager sees it for one rep."""

    gap: BehaviourGap
    finding: Finding | None         # None: not a finding this month
    value: float | None
    benchmark: float | None
    benchmark_label: str
    evidence: tuple[str, ...]
    why: str                        # the focus sentence, when this is the focus


def gap_view(cat: Catalog, snapshot: RepSnapshot, rep: RepDiagnosis, gap_id: str | None) -> GapView | None:
    gap = cat.behaviour_gaps.get(gap_id or "")
    if gap is None:
        return None
    finding = rep.finding("behaviour", gap.id)
    if finding is not None and finding.value is not None:
        value, bench = finding.value, finding.benchmark
        label = BENCHMARK_LABEL.get(finding.benchmark_kind or "", "benchmark")
    else:
        value = metric_value(snapshot, gap.metric)
        bench, label = benchmark_value(cat, snapshot, gap, gap.metric)
    evidence = tuple(s for _, s in rep.evidence.get(gap.id, []))
    why = rep.focus.why if rep.focus and rep.focus.behaviour_gap == gap.id else ""
    return GapView(gap, finding, value, bench, label, evidence, why)


def gap_choices(cat: Catalog, rep: RepDiagnosis) -> list[tuple[str, str]]:
    """The role's behaviour gaps with a flow: this month's findings first, marked."""
    found = [f for f in rep.findings if f.level == "behaviour" and f.id in cat.flows]
    reg, cur = cat.registry, cat.pipeline.currency
    out = []
    for f in found:
        d = reg.get(f.metric)
        mark = "★ proposed" if rep.focus and rep.focus.behaviour_gap == f.id else "● found this month"
        out.append((f.id, f"{cat.behaviour_gaps[f.id].title} — {mark}: {d.format(f.value, cur)} vs "
                          f"{d.format(f.benchmark, cur)}"))
    seen = {f.id for f in found}
    out += [(g.id, g.title) for g in cat.behaviour_gaps.values()
            if rep.role in g.roles and g.id in cat.flows and g.id not in seen]
    return out


SOURCE_WORDS = {"plan": "the rep's plan", "rep": "the rep's figures", "team": "the team median"}


def success_plan_rows(cat: Catalog, rows: list[dict]) -> list[dict]:
    """The success plan as the goals step shows it: each step's need, run rate and shortfall, worded."""
    out = []
    cur = cat.pipeline.currency
    for r in rows:
        d = cat.registry.get(r["metric"]) if r.get("metric") in cat.registry else None
        fmt = (lambda v: d.format(v, cur)) if d else (lambda v: f"{v:,.0f}")
        gap = r.get("gap")
        status, short = None, ""
        if gap is not None and r.get("needed") is not None:
            short = fmt(gap) if gap > 0 else ""
            status = "short" if short not in ("", "0", "$0") else "ahead" if gap < 0 else "on pace"
        ratio, value = r.get("ratio") or "", r.get("ratio_value")
        if ratio and value is not None:
            if "deal size" in ratio:
                ratio = f"{ratio} {fmt(value) if d and d.unit == 'currency' else f'${value:,.0f}'}"
            elif " that " in ratio and 0 < value <= 1:
                ratio = f"{ratio}: {value:.0%}"
            else:
                ratio = f"{ratio}: {value:.1f}"
        out.append({"title": r.get("title", ""), "needed": None if r.get("needed") is None else fmt(r["needed"]),
                    "run_rate": None if r.get("run_rate") is None else fmt(r["run_rate"]), "status": status,
                    "short": short, "ratio": ratio, "source": SOURCE_WORDS.get(r.get("source") or "", ""),
                    "metric": r.get("metric")})
    return out


# --------------------------------------------------------------------------- metrics in forms

def unit_of(cat: Catalog, metric: str) -> str:
    try:
        return cat.registry.get(metric).unit
    except KeyError:
        return ""


def to_input(cat: Catalog, metric: str, value: float | None) -> float | int | None:
    """A stored metric value as typed in a form (shares in percent; 315700, not 315700.0)."""
    if value is None:
        return None
    v = round(value * 100, 1) if unit_of(cat, metric) == "share" else round(float(value), 2)
    return int(v) if v == int(v) else v


def from_input(cat: Catalog, metric: str, value: float | None) -> float | None:
    if value is None:
        return None
    return value / 100 if unit_of(cat, metric) == "share" else float(value)


def unit_hint(cat: Catalog, metric: str) -> str:
    return {"share": "%", "currency": cat.pipeline.currency, "days": "days", "minutes": "minutes",
            "ratio": "ratio", "count": "count"}.get(unit_of(cat, metric), "")


def metric_choices(cat: Catalog, snapshot: RepSnapshot) -> list[tuple[str, str, str]]:
    """The baseline KPI choices (metric, title, group): the role's coaching metrics first, then the rest."""
    role_metrics = list(dict.fromkeys(g.metric for g in cat.gaps_for_role(snapshot.role)))
    goal_metrics = list(((snapshot.metrics or {}).get("goals") or {}).keys())
    first = list(dict.fromkeys(role_metrics + goal_metrics))
    others = [m for m in ((snapshot.metrics or {}).get("metrics") or {})
              if m not in first and m in cat.registry and metric_value(snapshot, m) is not None]
    title = cat.pipeline.role(snapshot.role).title if snapshot.role in cat.pipeline.role_ids else snapshot.role
    return [(m, cat.registry.get(m).title, f"Coaching metrics ({title})") for m in first if m in cat.registry] + \
        [(m, cat.registry.get(m).title, "Other metrics") for m in others]


def metric_defaults(cat: Catalog, snapshot: RepSnapshot, gap: BehaviourGap | None, metrics) -> dict:
    """Per metric, the baseline (last month) and a target (its benchmark), in form units: for coach.js."""
    out = {}
    for m in metrics:
        bench, label = benchmark_value(cat, snapshot, gap, m)
        out[m] = {"baseline": to_input(cat, m, metric_value(snapshot, m)), "target": to_input(cat, m, bench),
                  "unit": unit_hint(cat, m), "benchmark": label}
    return out


# --------------------------------------------------------------------------- the dialogue

def state_of(session: CoachingSession) -> dialogue.DialogueState | None:
    """The dialogue state, once a gap was chosen on the gap step."""
    return dialogue.DialogueState.from_dict(session.dialogue) if session.dialogue else None


def save_state(session: CoachingSession, state: dialogue.DialogueState) -> None:
    session.dialogue = state.to_dict()     # a new dict: the JSON column sees the change


def reachable(cat: Catalog, session: CoachingSession, rep: RepDiagnosis) -> list[str]:
    """The steps the manager may open now: each needs what the steps before it decided."""
    steps = ["reflection", "goals", "gap"]
    state = state_of(session)
    if state is None or state.behaviour_gap is None:
        return steps
    try:
        done = dialogue.step(cat, state, rep).done
    except DialogueError:          # the gap step puts the conversation back on its feet
        return steps
    steps.append("questions")
    if done:
        steps.append("causes")
    if done and state.confirmed_skill:
        steps.append("actions")
        if (session.actions or {}).get("skill") == state.confirmed_skill and session.actions.get("items"):
            steps.append("plan")
    return steps


def progress(session: CoachingSession, open_steps: list[str], viewing: str) -> list[dict]:
    """The progress strip: each step, done, current or ahead, and whether it can be opened."""
    at = STEP_IDS.index(session.step) if session.step in STEP_IDS else 0
    return [{"id": sid, "title": title, "number": i + 1, "current": sid == viewing,
             "done": i < at and sid in open_steps and sid != viewing, "open": sid in open_steps}
            for i, (sid, title) in enumerate(STEPS)]


def previous(step: str) -> str:
    return STEP_IDS[max(STEP_IDS.index(step) - 1, 0)]


def following(step: str) -> str:
    return STEP_IDS[min(STEP_IDS.index(step) + 1, len(STEP_IDS) - 1)]


def move(session: CoachingSession, step: str) -> None:
    """Save the session, standing on `step` (where a resume comes back to)."""
    session.step = step
    db.session.commit()


def choose_gap(cat: Catalog, session: CoachingSession, rep: RepDiagnosis, gap_id: str) -> None:
    state = dialogue.choose_gap(cat, state_of(session) or dialogue.start(cat, rep), gap_id)
    try:
        dialogue.step(cat, state, rep)
    except DialogueError:          # answers that no longer fit the flow (the catalog changed): start over
        state = replace(state, answers=(), confirmed_skill=None)
    save_state(session, state)


def answer(cat: Catalog, session: CoachingSession, question_id: str, action: str, answer_id: str | None) -> str:
    """Apply one move on the questions step; the step to stand on next."""
    state = state_of(session)
    if state is None:
        raise DialogueError("choose the gap to discuss first")
    if action == "back":
        if not state.answers:
            return "gap"
        save_state(session, dialogue.back(state))
        return "questions"
    moves = {"skip": dialogue.skip, "none": dialogue.none_of_these}
    if action in moves:
        state = moves[action](cat, state, question_id)
    else:
        state = dialogue.answer(cat, state, question_id, answer_id or "")
    save_state(session, state)
    return "questions"


def answered(cat: Catalog, state: dialogue.DialogueState) -> list[dict]:
    """The questions asked so far, each with what the rep said (or skipped)."""
    flow = cat.flows.get(state.behaviour_gap or "")
    questions = {q.id: q for q in flow.questions} if flow else {}
    out = []
    for qid, aid in state.answers:
        q = questions.get(qid)
        if q is None:
            continue
        say = {dialogue.SKIP: "skipped", dialogue.NONE: "none of these"}.get(aid)
        if say is None:
            say = next((a.say for a in q.answers if a.id == aid), aid)
        out.append({"ask": q.ask, "say": say, "plain": aid in (dialogue.SKIP, dialogue.NONE)})
    return out


def reason_parts(reason: str) -> dict:
    """A reason of the ranking: an evidence sentence, or "question — “answer”" (what the rep said)."""
    if reason.endswith("”") and " — “" in reason:
        question, said = reason.rsplit(" — “", 1)
        return {"said": True, "text": said[:-1], "question": question}
    return {"said": False, "text": reason, "question": ""}


# --------------------------------------------------------------------------- corrective actions

def action_rows(cat: Catalog, skill_id: str, saved: dict, today: date, role: str | None = None) -> list[dict]:
    """The learning assets and selling assignments for a root cause, as rows of the actions form.

    The focus's first asset and first assignment are preselected (at least one learning
    and one selling assignment, the seed's rule of thumb); saved choices win."""
    previous_items = {(i["kind"], i["ref_id"]): i for i in (saved.get("items") or [])} \
        if saved.get("skill") == skill_id else {}
    rows = []
    for n, a in enumerate(cat.assets_for(skill_id, role)):
        rows.append({"kind": AssignmentKind.learning.value, "ref_id": a.id, "title": a.title,
                     "due_on": today + timedelta(days=LEARNING_DUE_DAYS), "selected": n == 0,
                     "info": f"{a.kind.value.replace('_', ' ')} · {a.minutes} min", "text": a.summary})
    for n, t in enumerate(cat.assignments_for(skill_id, role)):
        rows.append({"kind": AssignmentKind.selling.value, "ref_id": t.id, "title": t.title,
                     "due_on": today + timedelta(days=t.due_days), "selected": n == 0,
                     "info": f"due in {t.due_days} days", "text": t.instructions, "measure": t.measure})
    rows.append({"kind": AssignmentKind.selling.value, "ref_id": CUSTOM, "title": "",
                 "due_on": today + timedelta(days=FOLLOW_UP_DAYS), "selected": False,
                 "info": "your own", "text": "A selling assignment of your own, on the rep's real deals."})
    if previous_items:
        for row in rows:
            old = previous_items.get((row["kind"], row["ref_id"]))
            row["selected"] = old is not None
            if old is not None:
                row["title"], row["due_on"] = old["title"], date.fromisoformat(old["due_on"])
    return rows


def save_actions(session: CoachingSession, skill_id: str, rows: list[dict], entries) -> None:
    """Keep the chosen actions (title and due date edited by the manager) on the session."""
    items = [{"kind": row["kind"], "ref_id": row["ref_id"], "title": (e.title.data or "").strip(),
              "due_on": e.due_on.data.isoformat()}
             for row, e in zip(rows, entries) if chosen(row, e)]
    session.actions = {"skill": skill_id, "items": items, "plan_draft": {}}


def chosen(row: dict, entry) -> bool:
    """A catalog row is chosen by its box; the manager's own assignment by having a title."""
    if row["ref_id"] == CUSTOM:
        return bool((entry.title.data or "").strip())
    return bool(entry.selected.data)


def how_text(cat: Catalog, items: list[dict]) -> str:
    """The plan's "how", from the chosen actions."""
    lines = []
    for i in items:
        due = date.fromisoformat(i["due_on"]).strftime("%d %b")
        if i["kind"] == AssignmentKind.learning.value:
            asset = cat.assets.get(i["ref_id"])
            extra = f" ({asset.kind.value.replace('_', ' ')}, {asset.minutes} min)" if asset else ""
            lines.append(f"Learn: {i['title']}{extra}, by {due}.")
        else:
            lines.append(f"Apply: {i['title']}, by {due}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the plan

def plan_defaults(cat: Catalog, session: CoachingSession, snapshot: RepSnapshot, rep: RepDiagnosis,
                  today: date) -> dict:
    """The plan form, prefilled: why from the focus, how from the actions, baseline and target."""
    state = state_of(session)
    view = gap_view(cat, snapshot, rep, state.behaviour_gap)
    metric = view.gap.metric
    why = view.why or _why_sentence(cat, view)
    draft = (session.actions or {}).get("plan_draft") or {}
    data = {"why": why, "how": how_text(cat, session.actions.get("items", [])), "baseline_metric": metric,
            "baseline_value": to_input(cat, metric, view.value), "target_value": to_input(cat, metric, view.benchmark),
            "follow_up_on": today + timedelta(days=FOLLOW_UP_DAYS), "second_follow_up_on": None,
            "prefilled_metric": metric, "gap": view.gap.id}
    for key, value in draft.items():
        if key in data and value not in (None, ""):
            data[key] = _parse_draft(key, value)
    return data


def _parse_draft(key: str, value):
    try:
        if key.endswith("_on"):
            return date.fromisoformat(value)
        if key in ("baseline_value", "target_value"):
            return float(value)
    except ValueError:
        return None
    return value


def _why_sentence(cat: Catalog, view: GapView) -> str:
    d = cat.registry.get(view.gap.metric)
    cur = cat.pipeline.currency
    if view.value is None:
        return f"{view.gap.title}: {view.gap.description}".strip()
    text = f"{d.title} {d.format(view.value, cur)}"
    if view.benchmark is not None:
        text += f" vs {view.benchmark_label} {d.format(view.benchmark, cur)}"
    return f"{view.gap.title}: {text}. {view.gap.description}".strip()


def save_draft(session: CoachingSession, formdata) -> None:
    """Keep what was typed on the plan step, valid or not, so that nothing is lost on leaving."""
    keys = ("why", "how", "baseline_metric", "baseline_value", "target_value", "follow_up_on",
            "second_follow_up_on")
    session.actions = {**(session.actions or {}), "plan_draft": {k: formdata.get(k, "") for k in keys}}
    db.session.commit()


def exact_values(cat: Catalog, session: CoachingSession, snapshot: RepSnapshot, rep: RepDiagnosis,
                 metric: str) -> tuple[float | None, float | None]:
    """The unrounded baseline and benchmark of a metric, as the plan step prefilled them."""
    view = gap_view(cat, snapshot, rep, (state_of(session) or dialogue.DialogueState("", None, None)).behaviour_gap)
    if view is not None and view.gap.metric == metric:
        return view.value, view.benchmark
    return metric_value(snapshot, metric), benchmark_value(cat, snapshot, view.gap if view else None, metric)[0]


def stored_value(cat: Catalog, metric: str, typed: float | None, exact: float | None) -> float | None:
    """What the manager typed, in the metric's unit; the exact figure when they kept the prefilled one."""
    if typed is not None and exact is not None and to_input(cat, metric, exact) == typed:
        return exact
    return from_input(cat, metric, typed)


def create_plan(cat: Catalog, session: CoachingSession, form, user: User,
                exact: tuple[float | None, float | None] = (None, None)) -> CoachingPlan:
    """The plan and its assignments, and the session completed: one transaction."""
    state = state_of(session)
    metric = form.baseline_metric.data
    plan = CoachingPlan(
        session_id=session.id, rep_id=session.rep_id, rep_name=session.rep_name, team=session.team,
        division=session.division, manager_id=user.id, month=session.month, skill_id=state.confirmed_skill,
        behaviour_gap=state.behaviour_gap, why=form.why.data.strip(), how=form.how.data.strip(),
        baseline_metric=metric, baseline_value=stored_value(cat, metric, form.baseline_value.data, exact[0]),
        target_value=stored_value(cat, metric, form.target_value.data, exact[1]), follow_up_on=form.follow_up_on.data,
        second_follow_up_on=form.second_follow_up_on.data)
    for item in session.actions.get("items", []):
        plan.assignments.append(Assignment(
            rep_id=session.rep_id, rep_name=session.rep_name, team=session.team, division=session.division,
            kind=item["kind"], ref_id=item["ref_id"], title=item["title"],
            due_on=date.fromisoformat(item["due_on"]), created_by=user.id))
    session.status, session.step = "completed", "done"
    db.session.add(plan)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return plan


# --------------------------------------------------------------------------- sessions

def month_session(rep_id: str, month: str, kind: str = SessionType.development.value) -> CoachingSession | None:
    """The rep's conversation of that kind for the month (a discarded one aside), whoever holds it."""
    return db.session.execute(
        db.select(CoachingSession).where(CoachingSession.rep_id == rep_id, CoachingSession.month == month,
                                         CoachingSession.kind == kind, CoachingSession.status != "discarded")
    ).scalars().first()


def start_or_resume(user: User, snapshot: RepSnapshot, dataset: Dataset, today: date) -> CoachingSession:
    """The rep's development conversation for the dataset's period: the one there is (in
    progress or held, by anyone), or a new one. The store holds one per rep, month and kind
    (a unique index): two starts at once make one conversation, never two."""
    existing = month_session(snapshot.rep_id, dataset.period)
    if existing is not None:
        return existing
    session = CoachingSession(rep_id=snapshot.rep_id, rep_name=snapshot.name, team=snapshot.team,
                              division=snapshot.division, manager_id=user.id, dataset_id=dataset.id,
                              kind=SessionType.development.value, held_on=today, month=dataset.period,
                              step="reflection", status="in_progress", reflection={}, dialogue={}, actions={},
                              drafts={})
    prefill(session)                  # the rep's pre-work, if they did it
    db.session.add(session)
    try:
        db.session.commit()
    except IntegrityError:            # started at the same moment elsewhere: resume that one
        db.session.rollback()
        existing = month_session(snapshot.rep_id, dataset.period)
        if existing is None:
            raise
        return existing
    return session


def finish_without_plan(session: CoachingSession) -> None:
    """The conversation held, with no plan this month (nothing to coach: keep the rhythm)."""
    session.status, session.step = "completed", "done"
    db.session.commit()


# --------------------------------------------------------------------------- drafts

DRAFT_STEPS = ("reflection", "goals", "gap", "actions", "plan")
SKIP_FIELDS = {"csrf_token", "next", "back", "leave", "finish"}


def save_step_draft(session: CoachingSession, step: str, formdata) -> None:
    """What was typed on a step, kept on the session (not yet saved as the step's answer)."""
    if step not in DRAFT_STEPS:
        return
    typed = {k: formdata.get(k, "")[:4000] for k in formdata.keys() if k not in SKIP_FIELDS}
    session.drafts = {**(session.drafts or {}), step: typed}
    db.session.commit()


def step_draft(session: CoachingSession, step: str) -> dict:
    return dict((session.drafts or {}).get(step) or {})


def clear_draft(session: CoachingSession, step: str) -> None:
    if step in (session.drafts or {}):
        session.drafts = {k: v for k, v in session.drafts.items() if k != step}


OPEN_SHOWN = 20      # conversations in progress listed on the month's, archive and assignments pages


class Shown(list):
    """The first items of a longer list, and how many there are in all (`total`)."""

    def __init__(self, items, total: int):
        super().__init__(items)
        self.total = total


def open_sessions(user: User, rep_id: str | None = None, limit: int | None = None) -> Shown:
    """Conversations in progress within the user's scope (for one rep, or all), latest first:
    the `limit` (OPEN_SHOWN) most recently saved (an admin's scope may hold hundreds), and their total."""
    limit = limit or OPEN_SHOWN
    q = scoped(CoachingSession, user).where(CoachingSession.status == "in_progress")
    if rep_id is not None:
        q = q.where(CoachingSession.rep_id == rep_id)
    listed = q.options(load_only(CoachingSession.id, CoachingSession.rep_id, CoachingSession.rep_name,
                                 CoachingSession.month, CoachingSession.step, CoachingSession.updated_at))
    listed = listed.order_by(CoachingSession.updated_at.desc(), CoachingSession.id.desc())
    rows = list(db.session.execute(listed.limit(limit)).scalars())
    total = len(rows)
    if total == limit:
        total = db.session.execute(q.with_only_columns(db.func.count()).order_by(None)).scalar_one()
    return Shown(rows, total)


def step_title(step: str) -> str:
    return dict(STEPS).get(step, "Done" if step == "done" else step)
