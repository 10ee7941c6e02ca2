"""The diagnostic conversation, as a pure state machine (no web, no storage).

Given the catalog, a rep's diagnosis and the answers so far, `step` gives the next
question or the result: the root causes ranked by score (the flow's prior weight,
plus the metric evidence that holds for the rep, plus the points of the answers),
each with the reasons behind it. The manager can go back, skip a question, answer
"none of these", discuss another behaviour gap than the proposed one, and confirm a
root cause. The state is plain data (`to_dict` / `from_dict`) that the web app
stores and resumes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..catalog.model import Catalog
from ..catalog.specs import Flow, Question
from ..diagnosis.diagnose import RepDiagnosis, candidate_scores, rank_candidates
from ..errors import DialogueError

SKIP = "__skip__"      # the question was not asked, or the rep would not say
NONE = "__none__"      # none of the answers fits


@dataclass(frozen=True)
class DialogueState:
    rep_id: str
    behaviour_gap: str | None               # the gap under discussion
    proposed_gap: str | None                # the engine's proposal (the focus)
    answers: tuple[tuple[str, str], ...] = ()   # (question id, answer id | SKIP | NONE), in order
    confirmed_skill: str | None = None

    @property
    def overridden(self) -> bool:
        return self.behaviour_gap != self.proposed_gap

    def to_dict(self) -> dict:
        return {"rep_id": self.rep_id, "behaviour_gap": self.behaviour_gap,
                "proposed_gap": self.proposed_gap, "answers": [list(a) for a in self.answers],
                "confirmed_skill": self.confirmed_skill}

    @classmethod
    def from_dict(cls, d: dict) -> "DialogueState":
        return cls(rep_id=d["rep_id"], behaviour_gap=d.get("behaviour_gap"),
                   proposed_gap=d.get("proposed_gap"),
                   answers=tuple((q, a) for q, a in d.get("answers", [])),
                   confirmed_skill=d.get("confirmed_skill"))


@dataclass(frozen=True)
class Cause:
    skill: str
    kind: str                  # skill | knowledge
    title: str
    score: float
    reasons: tuple[str, ...]   # evidence sentences and the answers that pointed here


@dataclass(frozen=True)
class Result:
    behaviour_gap: str
    causes: tuple[Cause, ...]  # best first

    @property
    def top(self) -> Cause | None:
        return self.causes[0] if self.causes else None


@dataclass(frozen=True)
class Step:
    """What the manager sees next: a question, or the result when no question is left."""

    question: Question | None
    result: Result | None
    number: int = 0            # 1-based position among the questions asked so far
    can_go_back: bool = False
    answered: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def done(self) -> bool:
        return self.question is None


def start(catalog: Catalog, rep: RepDiagnosis) -> DialogueState:
    """A new conversation on the rep's focus (or on nothing yet, if there is no focus)."""
    gap = rep.focus.behaviour_gap if rep.focus else None
    return DialogueState(rep_id=rep.rep_id, behaviour_gap=gap, proposed_gap=gap)


def choose_gap(catalog: Catalog, state: DialogueState, gap_id: str) -> DialogueState:
    """Discuss `gap_id` instead: the manager overrides (or accepts) the proposed gap."""
    if gap_id not in catalog.behaviour_gaps:
        raise DialogueError(f"unknown behaviour gap {gap_id!r}")
    if gap_id not in catalog.flows:
        raise DialogueError(f"behaviour gap {gap_id!r} has no diagnostic flow in the catalog")
    if gap_id == state.behaviour_gap:
        return state
    return replace(state, behaviour_gap=gap_id, answers=(), confirmed_skill=None)


def _flow(catalog: Catalog, state: DialogueState) -> Flow:
    if state.behaviour_gap is None:
        raise DialogueError("no behaviour gap chosen yet: choose one to discuss")
    flow = catalog.flows.get(state.behaviour_gap)
    if flow is None:
        raise DialogueError(f"behaviour gap {state.behaviour_gap!r} has no diagnostic flow")
    return flow


def _walk(flow: Flow, answers: tuple[tuple[str, str], ...]) -> tuple[Question | None, int]:
    """Replay the answers along the flow: the current question (None at the end) and how
    many answers the path used. Answers that do not fit the path raise DialogueError."""
    given = dict(answers)
    if len(given) != len(answers):
        raise DialogueError("a question was answered twice")
    index = {q.id: i for i, q in enumerate(flow.questions)}
    pos, used = 0, 0
    while pos < len(flow.questions):
        q = flow.questions[pos]
        if q.ask_if is not None and given.get(q.ask_if.question) not in q.ask_if.answer_in:
            pos += 1
            continue
        if used >= len(answers):
            return q, used
        qid, aid = answers[used]
        if qid != q.id:
            raise DialogueError(f"answer to {qid!r} given where {q.id!r} was asked")
        used += 1
        if aid in (SKIP, NONE):
            pos += 1
            continue
        ans = next((a for a in q.answers if a.id == aid), None)
        if ans is None:
            raise DialogueError(f"{aid!r} is not an answer of {q.id!r}")
        if ans.ends:
            break
        pos = index[ans.next] if ans.next else pos + 1
    if used != len(answers):
        raise DialogueError("answers given after the conversation ended")
    return None, used


def step(catalog: Catalog, state: DialogueState, rep: RepDiagnosis) -> Step:
    """The next question, or the result."""
    flow = _flow(catalog, state)
    q, _ = _walk(flow, state.answers)
    res = None if q is not None else result(catalog, state, rep)
    return Step(question=q, result=res, number=len(state.answers) + 1,
                can_go_back=bool(state.answers), answered=state.answers)


def answer(catalog: Catalog, state: DialogueState, question_id: str, answer_id: str) -> DialogueState:
    """Record an answer (an answer id, SKIP or NONE) to the current question."""
    flow = _flow(catalog, state)
    current, _ = _walk(flow, state.answers)
    if current is None:
        raise DialogueError("there is no question left to answer")
    if current.id != question_id:
        raise DialogueError(f"the current question is {current.id!r}, not {question_id!r}")
    if answer_id not in (SKIP, NONE) and answer_id not in {a.id for a in current.answers}:
        raise DialogueError(f"{answer_id!r} is not an answer of {question_id!r}")
    new = replace(state, answers=state.answers + ((question_id, answer_id),), confirmed_skill=None)
    _walk(flow, new.answers)
    return new


def skip(catalog: Catalog, state: DialogueState, question_id: str) -> DialogueState:
    return answer(catalog, state, question_id, SKIP)


def none_of_these(catalog: Catalog, state: DialogueState, question_id: str) -> DialogueState:
    return answer(catalog, state, question_id, NONE)


def back(state: DialogueState) -> DialogueState:
    """Take the last answer back."""
    if not state.answers:
        raise DialogueError("nothing to go back to")
    return replace(state, answers=state.answers[:-1], confirmed_skill=None)


def result(catalog: Catalog, state: DialogueState, rep: RepDiagnosis) -> Result:
    """The root causes ranked: prior weight + metric evidence + answers (works mid-way too)."""
    flow = _flow(catalog, state)
    evidence = {eid: text for eid, text in rep.evidence.get(flow.behaviour_gap, [])}
    scores = candidate_scores(catalog, flow.behaviour_gap, evidence)
    reasons: dict[str, list[str]] = {sid: [] for sid in scores}
    for ev in flow.evidence:
        if ev.id in evidence:
            for sid in ev.points_to:
                reasons.setdefault(sid, []).append(evidence[ev.id])
    questions = {q.id: q for q in flow.questions}
    for qid, aid in state.answers:
        q = questions.get(qid)
        ans = next((a for a in q.answers if a.id == aid), None) if q else None
        if ans is None:
            continue
        for sid, pts in ans.points_to.items():
            scores[sid] = scores.get(sid, 0.0) + pts
            reasons.setdefault(sid, []).append(f"{q.ask} — “{ans.say}”")
    causes = tuple(Cause(skill=sid, kind=catalog.skills[sid].kind.value, title=catalog.skills[sid].title,
                         score=round(score, 3), reasons=tuple(reasons.get(sid, ())))
                   for sid, score in rank_candidates(scores))
    return Result(behaviour_gap=flow.behaviour_gap, causes=causes)


def confirm(catalog: Catalog, state: DialogueState, skill_id: str) -> DialogueState:
    """The manager confirms the root cause (the top one, or another they judge right)."""
    if skill_id not in catalog.skills:
        raise DialogueError(f"unknown skill or knowledge gap {skill_id!r}")
    _flow(catalog, state)
    return replace(state, confirmed_skill=skill_id)
