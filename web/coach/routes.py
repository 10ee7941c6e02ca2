"""The diagnostic conversation, one step at a time: reflection, goals, the gap, the
questions, the root cause, corrective actions and the plan. Each step saves as it goes;
a session left half-way resumes on the step it stood on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from engine.dialogue import conversation as dialogue
from engine.catalog.model import Catalog
from engine.diagnosis.diagnose import RepDiagnosis
from engine.errors import DialogueError

from ..extensions import db
from ..fragments import kept
from ..models import CoachingSession, RepSnapshot
from ..security import current_dataset, rep_data_required, rep_or_404, session_or_404
from ..store import catalog
from . import prework, wizard
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from .forms import (ActionsForm, CauseForm, GapForm, GoalsForm, PageForm, PlanForm, QuestionForm,
                    ReflectionForm, StepForm, options)

bp = Blueprint("coach", __name__, url_prefix="/coach")
REPS_PER_PAGE = 50

LOST_THREAD = ("The conversation had moved on (perhaps in another tab, or the catalog changed), "
               "so that step could not be taken. Here is where it stands now.")


@dataclass
class Page:
    """One step of one session, with what every step's page shows beside it."""

    session: CoachingSession
    snapshot: RepSnapshot
    rep: RepDiagnosis
    cat: Catalog
    open_steps: list[str]
    step: str

    def render(self, template: str, **kw) -> str:
        state = wizard.state_of(self.session)
        gap = wizard.gap_view(self.cat, self.snapshot, self.rep, state.behaviour_gap if state else None)
        figures, chart_data = panel_pieces(self.snapshot)
        return render_template(template, page=self, s=self.session, snap=self.snapshot, rep=self.rep,
                               progress=wizard.progress(self.session, self.open_steps, self.step),
                               state=state, gap=gap, focus=self.rep.focus, kinds=wizard.SESSION_TYPES,
                               reason=wizard.reason_parts, opening=(self.snapshot.diagnosis or {}).get("opening"),
                               panel_figures=figures, panel_chart_data=chart_data,
                               draft_steps=wizard.DRAFT_STEPS,
                               missing=(self.snapshot.metrics or {}).get("not_in_data") or {}, **kw)

    def go(self, step: str) -> Response:
        wizard.move(self.session, step)
        return redirect(url_for(f"coach.{step}", session_id=self.session.id))


def panel_charts(snapshot: RepSnapshot):
    """The rep's charts, for the side panel of the conversation (the rep page's, in its order, built
    once per process as there)."""
    from ..reps.charts import role_kind
    from ..reps.routes import cached_charts
    return cached_charts(snapshot, role_kind(snapshot.role))


def panel_pieces(snapshot: RepSnapshot) -> tuple[Markup, Markup]:
    """The side panel's chart figures and their data, rendered once per dataset and rep (a step
    is opened and saved many times in a conversation; the charts are the same to every manager)."""
    def render() -> tuple[Markup, Markup]:
        charts = panel_charts(snapshot)
        return tuple(Markup(render_template("coach/_panel_charts.html", part=part, charts=charts,
                                            chart_data={c.id: c.spec for c in charts if c.spec}))
                     for part in ("figures", "data"))
    return kept(snapshot.dataset.folder, ("conversation charts", snapshot.rep_id), render)


def with_draft(form_class, session: CoachingSession, step: str, data: dict):
    """A step's form on GET: what was typed and left (the draft), else what was saved."""
    draft = wizard.step_draft(session, step) if request.method == "GET" else {}
    if draft:
        return form_class(formdata=MultiDict(draft))
    return form_class(data=data)


def open_page(session_id: int, step: str) -> Page | Response:
    """The session's step if it can be opened; a redirect to where the session stands otherwise."""
    session = session_or_404(session_id)
    if session.status != "in_progress":
        return redirect(url_for("coach.done", session_id=session.id))
    snapshot = wizard.snapshot_for(session)
    if snapshot is None:
        flash(f"{session.rep_name} is not in the current data any more: the conversation cannot go on.", "error")
        return redirect(url_for("coach.index"))
    cat, rep = catalog(), wizard.rep_diagnosis(snapshot)
    steps = wizard.reachable(cat, session, rep)
    if step not in steps:
        target = session.step if session.step in steps else steps[-1]
        flash(f"First finish “{wizard.step_title(target)}”.", "info")
        return redirect(url_for(f"coach.{target}", session_id=session.id))
    return Page(session, snapshot, rep, cat, steps, step)


def after_step(page: Page, form: StepForm, save) -> Response | None:
    """Back saves what validates and goes back; Save & continue saves and goes on."""
    if request.method != "POST":
        return None
    if form.going_back:
        if form.validate():
            save()
        return page.go(wizard.previous(page.step))
    if form.validate_on_submit():
        save()
        wizard.clear_draft(page.session, page.step)
        return page.go(wizard.following(page.step))
    return None


@bp.errorhandler(DialogueError)
def lost_thread(err: DialogueError):
    """Whatever the dialogue refuses: a friendly message and the conversation where it stands, never a 500."""
    db.session.rollback()
    current_app.logger.info("dialogue refused a step: %s", err)
    flash(LOST_THREAD, "error")
    session_id = (request.view_args or {}).get("session_id")
    if request.method == "POST" and session_id is not None:
        return redirect(url_for("coach.resume", session_id=session_id))
    return redirect(url_for("coach.index"))


@bp.get("/")
@rep_data_required
def index():
    """Day 1, the manager's month: every rep in scope with the month's conversation, the focus
    (or the opening), the active plan's KPI, assignments due and follow-ups due."""
    from ..rhythm.cadence import month_page
    from ..team.forms import TeamFilterForm
    from ..team.summary import scope_teams
    dataset = current_dataset()
    teams = scope_teams(current_user, dataset)
    form = TeamFilterForm(teams, formdata=request.args)
    team = form.team.data if form.validate() and form.team.data else None
    page, counts = month_page(current_user, dataset, date.today(), team, PageForm(request.args).page_number(),
                              REPS_PER_PAGE)
    return render_template("coach/index.html", dataset=dataset, rows=page.items, page=page, counts=counts,
                           form=form, teams=teams, team=team, sessions=wizard.open_sessions(current_user))


@bp.post("/start/<rep_id>")
@rep_data_required
def start(rep_id: str):
    """Start the development session with the rep for the current period, or resume the open one."""
    snapshot = rep_or_404(rep_id)          # the CSRF token was checked by CSRFProtect
    session = wizard.start_or_resume(current_user, snapshot, current_dataset(), date.today())
    return redirect(url_for("coach.resume", session_id=session.id))


@bp.get("/<int:session_id>")
@rep_data_required
def resume(session_id: int):
    session = session_or_404(session_id)
    if session.status != "in_progress":
        return redirect(url_for("coach.done", session_id=session.id))
    step = session.step if session.step in wizard.STEP_IDS else "reflection"
    return redirect(url_for(f"coach.{step}", session_id=session.id))


@bp.route("/<int:session_id>/reflection", methods=["GET", "POST"])
@rep_data_required
def reflection(session_id: int):
    page = open_page(session_id, "reflection")
    if isinstance(page, Response):
        return page
    s = page.session
    form = with_draft(ReflectionForm, s, "reflection", {**(s.reflection or {}), "kind": s.kind, "held_on": s.held_on})
    if request.method == "POST" and form.kind.data and form.kind.data != s.kind and \
            wizard.month_session(s.rep_id, s.month, form.kind.data) is not None:
        form.kind.errors = [f"There is already a {wizard.SESSION_TYPES.get(form.kind.data, form.kind.data).lower()} "
                            f"conversation with {s.rep_name} for {month_name(s.month)}: one per month and kind."]
        return page.render("coach/reflection.html", form=form, questions=wizard.EVERY_SESSION_QUESTIONS,
                           prework=prework.prework_for(s.rep_id, s.month))

    def save():
        s.reflection = {k: (getattr(form, k).data or "").strip() for k in ("how_it_went", "went_well", "to_improve")}
        s.kind, s.held_on = form.kind.data, form.held_on.data
        prework.from_session(s, current_user)          # the rep sees what was agreed in the meeting
    return after_step(page, form, save) or page.render("coach/reflection.html", form=form,
                                                       questions=wizard.EVERY_SESSION_QUESTIONS,
                                                       prework=prework.prework_for(s.rep_id, s.month))


@bp.route("/<int:session_id>/goals", methods=["GET", "POST"])
@rep_data_required
def goals(session_id: int):
    page = open_page(session_id, "goals")
    if isinstance(page, Response):
        return page
    form = with_draft(GoalsForm, page.session, "goals", {"goals_note": page.session.goals_note})

    def save():
        page.session.goals_note = (form.goals_note.data or "").strip()
        prework.from_session(page.session, current_user)
    goals_rows = ((page.snapshot.metrics or {}).get("goals") or {}).items()
    plan_rows = wizard.success_plan_rows(page.cat, page.snapshot.plan or [])
    return after_step(page, form, save) or page.render("coach/goals.html", form=form, goals=goals_rows,
                                                       plan_rows=plan_rows)


@bp.route("/<int:session_id>/gap", methods=["GET", "POST"])
@rep_data_required
def gap(session_id: int):
    page = open_page(session_id, "gap")
    if isinstance(page, Response):
        return page
    state = wizard.state_of(page.session)
    proposed = page.rep.focus.behaviour_gap if page.rep.focus else None
    form = GapForm(data={"behaviour_gap": (state.behaviour_gap if state else None) or proposed})
    placeholder = [] if proposed else [("", "— choose a behaviour gap —")]
    form.behaviour_gap.choices = options(placeholder + wizard.gap_choices(page.cat, page.rep))
    try:
        done = after_step(page, form, lambda: wizard.choose_gap(page.cat, page.session, page.rep,
                                                               form.behaviour_gap.data))
    except DialogueError:
        db.session.rollback()
        form.behaviour_gap.errors = ["That gap has no diagnostic conversation in the catalog: choose another."]
        done = None
    finding = page.rep.finding("performance", page.rep.focus.performance_gap) if page.rep.focus else None
    return done or page.render("coach/gap.html", form=form, performance=finding,
                               proposed=wizard.gap_view(page.cat, page.snapshot, page.rep, proposed))


@bp.route("/<int:session_id>/questions", methods=["GET", "POST"])
@rep_data_required
def questions(session_id: int):
    page = open_page(session_id, "questions")
    if isinstance(page, Response):
        return page
    state = wizard.state_of(page.session)
    current = dialogue.step(page.cat, state, page.rep)
    form = QuestionForm()
    if current.question is not None:
        form.answer.choices = options((a.id, a.say) for a in current.question.answers)
    if request.method == "POST" and form.question_id.data != getattr(current.question, "id", None):
        flash(LOST_THREAD, "error")              # an answer to a question no longer on screen
        return redirect(url_for("coach.questions", session_id=session_id))
    if form.validate_on_submit():
        return page.go(wizard.answer(page.cat, page.session, form.question_id.data, form.action, form.answer.data))
    if current.done:
        return page.go("causes")
    form.question_id.data = current.question.id
    return page.render("coach/questions.html", form=form, current=current,
                       trail=wizard.answered(page.cat, state), leaning=dialogue.result(page.cat, state, page.rep))


@bp.route("/<int:session_id>/causes", methods=["GET", "POST"])
@rep_data_required
def causes(session_id: int):
    page = open_page(session_id, "causes")
    if isinstance(page, Response):
        return page
    state = wizard.state_of(page.session)
    result = dialogue.result(page.cat, state, page.rep)
    form = CauseForm(data={"skill": state.confirmed_skill or (result.top.skill if result.top else None)})
    form.skill.choices = options((c.skill, c.title) for c in result.causes)
    if request.method == "POST" and form.going_back:
        return page.go(wizard.answer(page.cat, page.session, "", "back", None))
    if form.validate_on_submit():
        wizard.save_state(page.session, dialogue.confirm(page.cat, state, form.skill.data))
        return page.go("actions")
    return page.render("coach/causes.html", form=form, result=result, trail=wizard.answered(page.cat, state))


@bp.route("/<int:session_id>/actions", methods=["GET", "POST"])
@rep_data_required
def actions(session_id: int):
    page = open_page(session_id, "actions")
    if isinstance(page, Response):
        return page
    skill = wizard.state_of(page.session).confirmed_skill
    rows = wizard.action_rows(page.cat, skill, page.session.actions or {}, date.today(), page.snapshot.role)
    form = with_draft(ActionsForm, page.session, "actions",
                      {"items": [{k: r[k] for k in ("selected", "title", "due_on")} for r in rows]})
    form.items.min_entries = form.items.max_entries = len(rows)
    if request.method == "POST":
        valid = form.validate()                    # field errors first: check() adds to them
        valid = form.check(rows, wizard.chosen) and valid
        if valid:
            wizard.save_actions(page.session, skill, rows, [e.form for e in form.items])
            wizard.clear_draft(page.session, "actions")
        if valid or form.going_back:
            return page.go("causes" if form.going_back else "plan")
    return page.render("coach/actions.html", form=form, rows=list(zip(rows, form.items)),
                       skill=page.cat.skills[skill], asset_url=asset_url)


@bp.route("/<int:session_id>/plan", methods=["GET", "POST"])
@rep_data_required
def plan(session_id: int):
    page = open_page(session_id, "plan")
    if isinstance(page, Response):
        return page
    defaults = wizard.plan_defaults(page.cat, page.session, page.snapshot, page.rep, date.today())
    form = PlanForm(data=defaults)
    metrics = wizard.metric_choices(page.cat, page.snapshot)
    form.baseline_metric.choices = [SelectChoice(m, title, optgroup=group) for m, title, group in metrics]
    known = wizard.metric_defaults(page.cat, page.snapshot, page.cat.behaviour_gaps.get(defaults["gap"]),
                                   [m for m, _, _ in metrics])
    if request.method == "POST":
        wizard.save_draft(page.session, request.form)
        if form.going_back:
            return page.go("actions")
        if refill_baseline(form, known):
            flash("The baseline KPI changed: its value last month and a target were filled in. Check them and save.",
                  "info")
        elif form.validate_on_submit():
            exact = wizard.exact_values(page.cat, page.session, page.snapshot, page.rep, form.baseline_metric.data)
            saved = wizard.create_plan(page.cat, page.session, form, current_user, exact)
            flash(f"Plan saved for {saved.rep_name}, with {len(saved.assignments)} assignments.", "success")
            tell_the_rep(saved, page.cat.skills[saved.skill_id].title)
            return redirect(url_for("coach.done", session_id=session_id))
    return page.render("coach/plan.html", form=form, skill=page.cat.skills[page.session.dialogue["confirmed_skill"]],
                       metric_data=known, unit=lambda m: wizard.unit_hint(page.cat, m))


def tell_the_rep(plan, skill_title: str) -> None:
    """The agreed plan e-mailed to the rep, when the instance sends e-mail (FAIRWAY_SMTP_HOST set);
    the plan is saved whatever the mail server says, and the manager told if it failed."""
    from ..me.notify import send_plan_agreed
    if not current_app.config.get("FAIRWAY_SMTP_HOST"):
        return
    try:
        if send_plan_agreed(plan, skill_title):
            flash(f"{plan.rep_name} was sent the plan by e-mail.", "info")
    except Exception as exc:            # smtplib's errors, refused connections, TLS, a bad setting
        current_app.logger.warning("the plan %s could not be e-mailed to the rep: %s", plan.id, exc)
        flash(f"The plan is saved, but it could not be e-mailed to {plan.rep_name}: {exc}", "error")


def refill_baseline(form: PlanForm, known: dict) -> bool:
    """Without JavaScript: a new baseline metric with the old metric's untouched values gets its own."""
    new, old = form.baseline_metric.data, form.prefilled_metric.data
    if not new or new == old or new not in known:
        return False
    before = known.get(old, {})
    if form.baseline_value.data not in (None, before.get("baseline")) or \
            form.target_value.data not in (None, before.get("target")):
        return False
    for f, key in ((form.baseline_value, "baseline"), (form.target_value, "target")):
        f.data, f.raw_data = known[new][key], None         # shown as the new value, not as typed
    form.prefilled_metric.data = new
    return True


@bp.get("/<int:session_id>/done")
@rep_data_required
def done(session_id: int):
    session = session_or_404(session_id)
    if session.status == "in_progress":
        return redirect(url_for("coach.resume", session_id=session.id))
    state = wizard.state_of(session)
    return render_template("coach/done.html", s=session, plan=session.plan, state=state,
                           trail=wizard.answered(catalog(), state) if state else [], asset_url=asset_url,
                           kinds=wizard.SESSION_TYPES)


@bp.post("/<int:session_id>/draft/<step>")
@rep_data_required
def draft(session_id: int, step: str):
    """Keep what was typed on a step without saving it as the step's answer: on leaving the
    page (the Leave button, or coach.js when the page is left or typed in)."""
    session = session_or_404(session_id)
    if step not in wizard.DRAFT_STEPS:
        abort(404)
    if session.status == "in_progress":
        if step == "plan":
            wizard.save_draft(session, request.form)
        else:
            wizard.save_step_draft(session, step, request.form)
    if "leave" not in request.form:
        return Response(status=204)            # kept in the background, the page stays
    flash(f"What you typed with {session.rep_name} is kept: resume any time.", "info")
    return redirect(url_for("coach.index"))


@bp.post("/<int:session_id>/finish")
@rep_data_required
def finish(session_id: int):
    """Hold the month's conversation without a plan: nothing to coach, keep the rhythm."""
    session = session_or_404(session_id)
    if session.status == "in_progress":
        wizard.finish_without_plan(session)
        flash(f"The conversation with {session.rep_name} is recorded as held, without a plan this month.",
              "success")
    return redirect(url_for("coach.done", session_id=session.id))


@bp.post("/<int:session_id>/discard")
@rep_data_required
def discard(session_id: int):
    session = session_or_404(session_id)
    if session.status == "in_progress":
        session.status = "discarded"
        db.session.commit()
        flash(f"The conversation with {session.rep_name} was discarded.", "info")
    return redirect(url_for("coach.index"))


@bp.app_template_filter("month_name")
def month_name(period: str | None) -> str:
    """"2026-10" as "October 2026"."""
    try:
        return date.fromisoformat(f"{period}-01").strftime("%B %Y")
    except (TypeError, ValueError):
        return period or ""


@bp.app_template_filter("step_title")
def step_title(step: str) -> str:
    return wizard.step_title(step)


def asset_url(asset_id: str) -> str | None:
    """The learning asset's page, once the catalog blueprint serves one."""
    if "catalog.asset" not in current_app.view_functions:
        return None
    return url_for("catalog.asset", asset_id=asset_id)
