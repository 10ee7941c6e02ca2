"""The diagnostic conversation as a pure state machine."""
from __future__ import annotations

import pytest

from engine.dialogue import conversation as dg
from engine.diagnosis.diagnose import Finding, Focus, RepDiagnosis
from engine.errors import DialogueError


@pytest.fixture
def rep():
    focus = Focus(metric="stage_conversion.demo", performance_gap="low_win_rate", behaviour_gap="demo_dropoff",
                  skill_gap="qualification", learning_assets=(), assignments=(), why="", impact=1.0,
                  impact_unit="won_deals")
    return RepDiagnosis(rep_id="R1", name="Nancy", role="isr", team="T", focus=focus,
                        findings=(Finding(level="behaviour", id="demo_dropoff"),),
                        evidence={"demo_dropoff": [["demo_losses_to_poor_qualification", "30% of losses"]]})


def walk(catalog, state, rep, choose):
    s = dg.step(catalog, state, rep)
    while not s.done:
        state = dg.answer(catalog, state, s.question.id, choose(s.question))
        s = dg.step(catalog, state, rep)
    return state, s.result


def test_starts_on_the_focus_and_asks_the_flow_in_order(catalog, rep):
    state = dg.start(catalog, rep)
    assert state.behaviour_gap == "demo_dropoff" and not state.overridden
    first = dg.step(catalog, state, rep)
    assert first.question.id == catalog.flows["demo_dropoff"].questions[0].id and first.number == 1
    assert not first.can_go_back


def test_evidence_counts_before_any_answer_and_answers_move_the_ranking(catalog, rep):
    state = dg.start(catalog, rep)
    before = dg.result(catalog, state, rep)
    assert before.top.skill == "qualification"
    assert "30% of losses" in before.top.reasons
    # answer every question toward demo delivery
    state, res = walk(catalog, state, rep, lambda q: next(
        (a.id for a in q.answers if "demo_delivery" in a.points_to), dg.SKIP))
    assert res.top.skill == "demo_delivery"
    assert any("“" in r for r in res.top.reasons)        # "you said ..." reasons


def test_back_skip_and_none_of_these(catalog, rep):
    state = dg.start(catalog, rep)
    q1 = dg.step(catalog, state, rep).question
    state = dg.skip(catalog, state, q1.id)
    q2 = dg.step(catalog, state, rep).question
    assert q2.id != q1.id
    state = dg.none_of_these(catalog, state, q2.id)
    assert state.answers[-1] == (q2.id, dg.NONE)
    state = dg.back(dg.back(state))
    assert dg.step(catalog, state, rep).question.id == q1.id
    with pytest.raises(DialogueError):
        dg.back(state)


def test_only_the_current_question_can_be_answered(catalog, rep):
    state = dg.start(catalog, rep)
    flow = catalog.flows["demo_dropoff"]
    with pytest.raises(DialogueError, match="current question"):
        dg.answer(catalog, state, flow.questions[1].id, flow.questions[1].answers[0].id)
    with pytest.raises(DialogueError, match="not an answer"):
        dg.answer(catalog, state, flow.questions[0].id, "made_up")


def test_ask_if_and_jumps_follow_the_answers(catalog, rep):
    flow = catalog.flows["demo_dropoff"]
    gated = next(q for q in flow.questions if q.ask_if)
    opener = next(q for q in flow.questions if q.id == gated.ask_if.question)
    state = dg.start(catalog, rep)
    asked = []
    s = dg.step(catalog, state, rep)
    while not s.done:
        asked.append(s.question.id)
        q = s.question
        pick = next(a.id for a in q.answers if a.id not in gated.ask_if.answer_in) if q.id == opener.id else dg.SKIP
        state = dg.answer(catalog, state, q.id, pick)
        s = dg.step(catalog, state, rep)
    assert gated.id not in asked


def test_the_manager_can_discuss_another_gap(catalog, rep):
    state = dg.start(catalog, rep)
    state = dg.answer(catalog, state, dg.step(catalog, state, rep).question.id, dg.SKIP)
    other = dg.choose_gap(catalog, state, "proposal_dropoff")
    assert other.overridden and other.answers == ()
    assert dg.step(catalog, other, rep).question.id == catalog.flows["proposal_dropoff"].questions[0].id
    with pytest.raises(DialogueError):
        dg.choose_gap(catalog, state, "not_a_gap")


def test_confirm_and_state_round_trips_as_plain_data(catalog, rep):
    state = dg.start(catalog, rep)
    state, res = walk(catalog, state, rep, lambda q: q.answers[0].id)
    state = dg.confirm(catalog, state, res.causes[1].skill)
    again = dg.DialogueState.from_dict(state.to_dict())
    assert again == state and again.confirmed_skill == res.causes[1].skill
    with pytest.raises(DialogueError):
        dg.confirm(catalog, state, "nope")


def test_no_focus_means_no_flow_until_a_gap_is_chosen(catalog, rep):
    empty = RepDiagnosis(rep_id="R2", name="x", role="isr", team="T", focus=None, findings=())
    state = dg.start(catalog, empty)
    with pytest.raises(DialogueError, match="no behaviour gap chosen"):
        dg.step(catalog, state, empty)
    state = dg.choose_gap(catalog, state, "demo_dropoff")
    assert dg.step(catalog, state, empty).question is not None
