"""What the API answers: strict JSON documents built from the stored rows (no NaN, ever)."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Response, url_for

from engine.diagnosis.diagnose import RepDiagnosis
from engine.diagnosis.documents import diagnosis_document, dumps

from ..models import Assignment, CoachingPlan, Dataset, RepSnapshot


def json_response(doc, status: int = 200) -> Response:
    """Strict JSON through engine.diagnosis.documents.dumps: NaN and infinities become null."""
    return Response(dumps(doc), status=status, mimetype="application/json")


def json_error(status: int, message: str, **extra) -> Response:
    return json_response({"error": {"status": status, "message": message, **extra}}, status)


def _iso(value):
    return value.isoformat() if value is not None else None


def focus_summary(rep: RepSnapshot) -> dict | None:
    focus = (rep.diagnosis or {}).get("focus")
    if not focus:
        return None
    return {k: focus.get(k) for k in ("performance_gap", "behaviour_gap", "skill_gap", "metric", "why")}


# what a rep's summary reads: its focus is in `diagnosis` (the rest of the snapshot stays unread)
SUMMARY_COLUMNS = (RepSnapshot.rep_id, RepSnapshot.name, RepSnapshot.role, RepSnapshot.team, RepSnapshot.division,
                   RepSnapshot.manager, RepSnapshot.diagnosis)


def page_links(page, endpoint: str, query) -> dict:
    """Where a list stands: its page, size and total, and the URLs of the next and previous pages
    (with the same filters), null at either end."""
    args = {k: v for k, v in query.data.items() if v not in (None, "") and k not in ("page", "per_page")}
    link = lambda n: url_for(endpoint, **args, page=n, per_page=page.per_page) if n else None   # noqa: E731
    return {"page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages,
            "next": link(page.next_num if page.has_next else None),
            "previous": link(page.prev_num if page.has_prev and page.page <= page.pages else None)}


def rep_summary(rep: RepSnapshot) -> dict:
    return {"rep_id": rep.rep_id, "name": rep.name, "role": rep.role, "team": rep.team,
            "division": rep.division, "manager": rep.manager, "focus": focus_summary(rep),
            "url": url_for("api.rep", rep_id=rep.rep_id)}


def rep_detail(rep: RepSnapshot, ds: Dataset) -> dict:
    return {**rep_summary(rep), "period": ds.period, "as_of": _iso(ds.as_of),
            "focus": diagnosis_entry(rep, ds)["focus"], "success_plan": rep.plan,
            "links": {"metrics": url_for("api.rep_metrics", rep_id=rep.rep_id),
                      "diagnosis": url_for("api.rep_diagnosis", rep_id=rep.rep_id)}}


def metrics_entry(rep: RepSnapshot, ds: Dataset) -> dict:
    """The rep's entry of `fairway metrics --json` (data contract 4), with the period."""
    return {"period": ds.period, "as_of": _iso(ds.as_of), **(rep.metrics or {})}


def diagnosis_entry(rep: RepSnapshot, ds: Dataset) -> dict:
    """The rep's entry of `fairway diagnose --json` (data contract 5), with the period."""
    if not rep.diagnosis:
        return {"period": ds.period, "rep_id": rep.rep_id, "name": rep.name, "role": rep.role,
                "team": rep.team, "focus": None, "findings": []}
    rd = RepDiagnosis.from_dict(rep.diagnosis)
    doc = diagnosis_document(SimpleNamespace(period=ds.period, reps=(rd,)))
    return {"period": ds.period, **doc["reps"][0]}


def assignment_doc(a: Assignment) -> dict:
    return {"id": a.id, "plan_id": a.plan_id, "rep_id": a.rep_id, "rep_name": a.rep_name, "team": a.team,
            "kind": a.kind, "ref_id": a.ref_id, "title": a.title, "due_on": _iso(a.due_on),
            "status": a.status, "completed_at": _iso(a.completed_at), "created_at": _iso(a.created_at),
            "evidence": a.evidence or "", "evidence_at": _iso(a.evidence_at),
            "complete_url": url_for("api.complete_assignment", assignment_id=a.id)}


def plan_doc(p: CoachingPlan, full: bool = False) -> dict:
    doc = {"id": p.id, "rep_id": p.rep_id, "rep_name": p.rep_name, "team": p.team, "division": p.division,
           "month": p.month, "skill_id": p.skill_id, "behaviour_gap": p.behaviour_gap, "status": p.status,
           "baseline_metric": p.baseline_metric, "baseline_value": p.baseline_value,
           "target_value": p.target_value, "follow_up_on": _iso(p.follow_up_on),
           "acknowledged_at": _iso(p.acknowledged_at),
           "url": url_for("api.plan", plan_id=p.id)}
    if full:
        doc |= {"session_id": p.session_id, "why": p.why, "how": p.how,
                "second_follow_up_on": _iso(p.second_follow_up_on), "outcome": p.outcome,
                "outcome_value": p.outcome_value, "closed_at": _iso(p.closed_at), "created_at": _iso(p.created_at),
                "closed_on_data": bool(p.closed_on_data), "override_reason": p.override_reason or "",
                "measures": [{"period": m.period, "value": m.value} for m in p.measures],
                "assignments": [assignment_doc(a) for a in p.assignments]}
    return doc


def dataset_doc(ds: Dataset, full: bool) -> dict:
    """The current dataset: period and counts for everyone; every field for an admin."""
    s = ds.summary or {}
    doc = {"period": ds.period, "as_of": _iso(ds.as_of),
           "counts": {"reps": s.get("reps"), "teams": s.get("teams"), "divisions": s.get("divisions"),
                      "roles": s.get("roles", {})}}
    if full:
        doc |= {"id": ds.id, "name": ds.name, "source": ds.source, "catalog_version": ds.catalog_version,
                "imported_at": _iso(ds.imported_at), "imported_by": ds.imported_by,
                "first_date": s.get("first_date"), "last_date": s.get("last_date"),
                "rows": s.get("rows", {}), "warnings": s.get("warnings", [])}
    return doc
