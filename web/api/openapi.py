"""The OpenAPI 3 description of /api/v1: the one place the API's shape is written down.

Served at GET /api/v1/openapi.json. tests/webapp/test_openapi.py checks it against the
app's url_map (every API route described, nothing described that does not exist) and
validates it as OpenAPI; tests/webapp/test_api_schemathesis.py calls the served app with
what it generates and checks every answer against it.
"""
from __future__ import annotations

from engine import __version__

from .. import MAX_ID                # the routes' <int:...> stop there
from .forms import MAX_PAGE, MAX_PER_PAGE, PER_PAGE

PREFIX = "/api/v1"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict, optional: dict | None = None, **extra) -> dict:
    """An object schema: `required` properties must be present; more may be added later."""
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})},
            **extra}


STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"}     # ISO 8601, no zone
MONTH = {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"}
STRINGS = {"type": "array", "items": STRING}
NUMBER_MAP = {"type": "object", "additionalProperties": nullable(NUMBER)}

# every list answers a page of its items, and where the others are
PAGE_FIELDS = {
    "page": {"type": "integer", "minimum": 1, "description": "This page's number (from 1)."},
    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    "total": {"type": "integer", "minimum": 0, "description": "Items in every page together."},
    "pages": {"type": "integer", "minimum": 0},
    "next": nullable({"type": "string", "description": "The next page's URL, with the same filters; null on the "
                                                       "last page."}),
    "previous": nullable({"type": "string", "description": "The previous page's URL; null on the first."}),
}

SCHEMAS = {
    "Error": obj({"error": obj({"status": INTEGER, "message": STRING},
                               {"fields": {"type": "object", "additionalProperties": STRINGS,
                                           "description": "400 for query parameters: every problem, "
                                                          "by parameter"}})}),
    "CsrfToken": obj({"csrf_token": STRING, "header": {"type": "string", "enum": ["X-CSRFToken"]}}),
    "FocusSummary": obj({"performance_gap": STRING, "behaviour_gap": STRING,
                         "skill_gap": nullable(STRING), "metric": STRING, "why": STRING}),
    "Focus": obj({"metric": STRING, "performance_gap": STRING, "behaviour_gap": STRING,
                  "skill_gap": nullable(STRING), "learning_assets": STRINGS, "why": STRING},
                 {"assignments": STRINGS, "impact": NUMBER, "impact_unit": STRING}),
    "RepSummary": obj({"rep_id": STRING, "name": STRING, "role": STRING, "team": STRING, "division": STRING,
                       "manager": nullable(STRING), "focus": nullable(ref("FocusSummary")), "url": STRING}),
    "RepList": obj({"period": nullable(MONTH), "reps": {"type": "array", "items": ref("RepSummary")},
                    **PAGE_FIELDS}),
    "PlanStep": obj({"step": STRING, "title": STRING, "metric": STRING},
                    {"ratio": nullable(STRING), "ratio_value": nullable(NUMBER), "source": nullable(STRING),
                     "needed": nullable(NUMBER), "actual": nullable(NUMBER), "run_rate": nullable(NUMBER),
                     "gap": nullable(NUMBER)}),
    "RepDetail": {"allOf": [ref("RepSummary"), obj(
        {"period": MONTH, "as_of": DATE, "focus": nullable(ref("Focus")),
         "success_plan": nullable({"type": "array", "items": ref("PlanStep")}),
         "links": obj({"metrics": STRING, "diagnosis": STRING})})]},
    "MetricValue": obj({"value": nullable(NUMBER), "n": nullable(NUMBER)}, {"lower_bound": BOOLEAN}),
    "FunnelStage": obj({"stage": STRING, "count": NUMBER, "conversion_to_next": nullable(NUMBER),
                        "conversion_from_top": nullable(NUMBER)}),
    "Goal": obj({"target": nullable(NUMBER)}, {"value": nullable(NUMBER), "progress": nullable(NUMBER),
                                              "rag": nullable(STRING)}),
    "Trend": obj({"direction": nullable({"type": "string", "enum": ["up", "down", "flat"]})},
                 {"tau": nullable(NUMBER), "p_value": nullable(NUMBER)}),
    "RepMetrics": obj(
        {"period": MONTH, "as_of": nullable(DATE), "rep_id": STRING,
         "metrics": {"type": "object", "additionalProperties": nullable(ref("MetricValue"))},
         "funnel": {"type": "array", "items": ref("FunnelStage")},
         "benchmarks": {"type": "object", "additionalProperties": NUMBER_MAP}},
        {"name": STRING, "role": STRING, "team": STRING, "division": STRING, "manager": nullable(STRING),
         "goals": {"type": "object", "additionalProperties": ref("Goal")},
         "trends": {"type": "object", "additionalProperties": ref("Trend")},
         "not_in_data": {"type": "object", "additionalProperties": STRING,
                         "description": "metric id -> why the data cannot give it (its value is null: "
                                        "not in the data, never 0)"}},
        description="The rep's entry of `fairway metrics --json` (docs/data-contract.md, section 4)."),
    "Finding": obj(
        {"level": {"type": "string", "enum": ["performance", "behaviour", "skill", "knowledge"]}, "id": STRING,
         "metric": nullable(STRING), "value": nullable(NUMBER),
         "benchmark": nullable(obj({"kind": STRING, "value": nullable(NUMBER)})),
         "p_value": nullable(NUMBER), "impact": nullable(NUMBER), "evidence": STRINGS},
        {"q_value": nullable(NUMBER), "relative_gap": nullable(NUMBER), "n": nullable(NUMBER),
         "impact_unit": nullable(STRING), "explains": STRINGS, "masked_by": STRINGS, "score": nullable(NUMBER),
         "lower_bound": BOOLEAN}),
    "RepDiagnosis": obj(
        {"period": MONTH, "rep_id": STRING, "focus": nullable(ref("Focus")),
         "findings": {"type": "array", "items": ref("Finding")}},
        {"name": STRING, "role": STRING, "team": STRING},
        description="The rep's entry of `fairway diagnose --json` (docs/data-contract.md, section 5)."),
    "Assignment": obj({
        "id": INTEGER, "plan_id": nullable(INTEGER), "rep_id": STRING, "rep_name": STRING, "team": STRING,
        "kind": {"type": "string", "enum": ["learning", "selling"]}, "ref_id": STRING, "title": STRING,
        "due_on": DATE, "status": {"type": "string", "enum": ["open", "completed", "cancelled"]},
        "completed_at": nullable(DATETIME), "created_at": DATETIME, "complete_url": STRING,
        "evidence": STRING, "evidence_at": nullable(DATETIME)}),
    "AssignmentList": obj({"assignments": {"type": "array", "items": ref("Assignment")}, **PAGE_FIELDS}),
    "Plan": obj({
        "id": INTEGER, "rep_id": STRING, "rep_name": STRING, "team": STRING, "division": STRING,
        "month": MONTH, "skill_id": STRING, "behaviour_gap": nullable(STRING),
        "status": {"type": "string", "enum": ["active", "achieved", "not_achieved", "abandoned"]},
        "baseline_metric": STRING, "baseline_value": nullable(NUMBER), "target_value": nullable(NUMBER),
        "follow_up_on": DATE, "url": STRING, "acknowledged_at": nullable(DATETIME)}),
    "PlanList": obj({"plans": {"type": "array", "items": ref("Plan")}, **PAGE_FIELDS}),
    "PlanDetail": {"allOf": [ref("Plan"), obj({
        "session_id": nullable(INTEGER), "why": STRING, "how": STRING, "second_follow_up_on": nullable(DATE),
        "outcome": STRING, "outcome_value": nullable(NUMBER), "closed_at": nullable(DATETIME),
        "created_at": DATETIME, "assignments": {"type": "array", "items": ref("Assignment")},
        "closed_on_data": BOOLEAN, "override_reason": STRING,
        "measures": {"type": "array", "items": ref("Measure")}})]},
    "Measure": obj({"period": MONTH, "value": nullable(NUMBER)}),
    "CadenceRep": obj({
        "rep_id": STRING, "name": STRING, "team": STRING, "division": STRING, "manager": nullable(STRING),
        "status": {"type": "string", "enum": ["not_started", "in_progress", "agreed", "held", "keep_rhythm"]},
        "held_by": nullable(STRING), "session_id": nullable(INTEGER), "step": nullable(STRING),
        "focus": nullable(ref("FocusSummary")), "opening": nullable({"type": "object"}),
        "plan_id": nullable(INTEGER),
        "active_plans": {"type": "array", "items": obj({
            "id": INTEGER, "month": MONTH, "skill_id": STRING, "baseline_metric": STRING,
            "baseline_value": nullable(NUMBER), "target_value": nullable(NUMBER), "follow_up_on": DATE,
            "measures": {"type": "array", "items": ref("Measure")},
            "latest": nullable(obj({"value": nullable(NUMBER), "reached": BOOLEAN, "progress": nullable(NUMBER),
                                    "moved": STRING})),
            "trend": {"type": "string", "enum": ["better", "worse", "flat"]}, "due": BOOLEAN})},
        "assignments_due": {"type": "array", "items": INTEGER},
        "assignments_overdue": {"type": "array", "items": INTEGER}}),
    "Cadence": obj({"period": nullable(MONTH), "counts": {"type": "object", "additionalProperties": INTEGER},
                    "reps": {"type": "array", "items": ref("CadenceRep")}, **PAGE_FIELDS}),
    "RollupGroup": obj({
        "key": STRING, "division": STRING, "managers": STRINGS, "reps": INTEGER, "with_focus": INTEGER,
        "goal_progress": nullable(NUMBER), "held": INTEGER, "in_progress": INTEGER, "not_held": INTEGER,
        "plans_agreed": INTEGER, "assignments_due": INTEGER, "assignments_completed": INTEGER,
        "completion": nullable(NUMBER),
        "changed": obj({"new_focus": INTEGER, "kpi_better": INTEGER, "kpi_worse": INTEGER,
                        "plans_achieved": INTEGER, "plans_missed": INTEGER})}),
    "Rollup": obj({"period": nullable(MONTH), "division": nullable(STRING), "total": ref("RollupGroup"),
                   "divisions": {"type": "array", "items": ref("RollupGroup")},
                   "teams": {"type": "array", "items": ref("RollupGroup")},
                   "managers_behind": {"type": "array", "items": obj({
                       "team": STRING, "division": STRING, "managers": STRINGS, "held": INTEGER, "reps": INTEGER,
                       "in_progress": INTEGER})}}),
    "RollupTeam": obj({"period": MONTH, "team": STRING, "reps": {"type": "array", "items": {"allOf": [
        ref("CadenceRep"), obj({"plan": nullable(obj({"id": INTEGER, "skill_id": STRING, "why": STRING,
                                                      "how": STRING,
                                                      "assignments": {"type": "array",
                                                                      "items": ref("Assignment")}}))})]}}}),
    "EffectivenessGroup": obj({
        "key": STRING, "reps": INTEGER, "conversations": INTEGER,
        "by_kind": {"type": "object", "additionalProperties": INTEGER}, "conversations_per_rep": NUMBER,
        "learning": INTEGER, "selling": INTEGER, "due": INTEGER, "completed": INTEGER, "overdue": INTEGER,
        "completion": nullable(NUMBER), "on_rule": INTEGER,
        "rag": {"type": "object", "additionalProperties": nullable({"type": "string",
                                                                    "enum": ["green", "yellow", "red"]})}}),
    "Effectiveness": obj({"month": MONTH, "kinds": STRINGS, "targets": {"type": "object"},
                          "teams": {"type": "array", "items": ref("EffectivenessGroup")},
                          "managers": {"type": "array", "items": ref("EffectivenessGroup")},
                          "total": nullable(ref("EffectivenessGroup"))}),
    "Report": obj({"month": MONTH, "by": {"type": "string", "enum": ["division", "team", "rep"]},
                   "grain": {"type": "string", "enum": ["day", "week", "month"]},
                   "buckets": {"type": "array", "items": DATE}, "metrics": STRINGS,
                   "groups": {"type": "array", "items": obj({
                       "key": STRING, "name": STRING,
                       "values": {"type": "object", "additionalProperties": {"type": "array", "items": NUMBER}},
                       "goals": {"type": "object", "additionalProperties": nullable(NUMBER)}})}},
                  description="The progress report: per group, each metric's value per bucket (`buckets`: each "
                              "bucket's first day); goals (month grain) are the sum of the group's goals."),
    "Problem": obj({"file": STRING, "message": STRING},
                   {"row": INTEGER, "line": INTEGER, "column": STRING, "value": STRING, "expected": STRING,
                    "suggestion": STRING}),
    "Coverage": obj({
        "catalog_version": nullable(STRING),
        "coverage": {"type": "array", "items": obj(
            {"skill": STRING, "kind": STRING, "title": STRING, "assets": STRINGS, "assignments": STRINGS,
             "minutes": NUMBER, "flows": STRINGS})},
        "errors": {"type": "array", "items": ref("Problem")},
        "warnings": {"type": "array", "items": ref("Problem")}}),
    "Dataset": obj(
        {"period": MONTH, "as_of": DATE,
         "counts": obj({"reps": nullable(INTEGER), "teams": nullable(INTEGER), "divisions": nullable(INTEGER),
                        "roles": {"type": "object", "additionalProperties": INTEGER}})},
        {"id": INTEGER, "name": STRING, "source": STRING, "catalog_version": STRING, "imported_at": DATETIME,
         "imported_by": nullable(INTEGER), "first_date": nullable(DATE), "last_date": nullable(DATE),
         "rows": {"type": "object", "additionalProperties": INTEGER}, "warnings": STRINGS},
        description="Everyone: period, as_of and counts; admins: every field."),
    "OpenAPI": obj({"openapi": STRING, "info": {"type": "object"}, "paths": {"type": "object"}}),
}

ERRORS = {
    400: "A missing or expired CSRF token (POST), or query parameters that do not fit (`error.fields`).",
    401: "Signed out: sign in at /login and send the session cookie.",
    403: "The role may not use this path.",
    404: "Nothing there, or something outside your scope (answered exactly alike).",
    405: "A method the path does not take (the Allow header lists those it takes).",
    409: "The request conflicts with the state of the resource.",
}


def json_body(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def answer(description: str, schema_name: str) -> dict:
    return {"description": description, "content": json_body(ref(schema_name))}


def error(status: int) -> dict:
    return {"$ref": f"#/components/responses/E{status}"}


def path_id(name: str, description: str, example) -> dict:
    if name == "rep_id":
        schema = {"type": "string", "minLength": 1}
    else:
        schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema,
            "example": example}


def query(name: str, schema: dict, description: str) -> dict:
    """An optional query parameter; empty is the same as left out (as a form sends it)."""
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
            "description": description + " Empty: no filter.", "schema": schema}


def get(summary: str, ok: str, schema_name: str, errors: tuple[int, ...], params: list | None = None,
        operation_id: str = "") -> dict:
    op = {"operationId": operation_id, "summary": summary, "tags": [operation_id.split("_")[0]],
          "responses": {"200": answer(ok, schema_name), **{str(s): error(s) for s in (401, *errors)}}}
    if params:
        op["parameters"] = params
    return {"get": op}


REP_ID = path_id("rep_id", "A rep of the current dataset within your scope.", "R0001")
REP_DATA = (403, 404)          # a role without rep data; a rep outside the scope or missing
PLAN_STATUSES = ["active", "achieved", "not_achieved", "abandoned"]
MONTH_OR_EMPTY = {"type": "string", "pattern": r"^(\d{4}-(0[1-9]|1[0-2]))?$"}
REP_FILTER = query("rep_id", {"type": "string", "maxLength": 120}, "Only this rep.")
PAGING = [query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                "The page to answer, from 1 (beyond the last: an empty list)."),
          query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                f"Items per page, at most {MAX_PER_PAGE} (default {PER_PAGE}).")]

PATHS = {
    "/csrf-token": get("A CSRF token for this session's POST requests.", "The token and the header to send "
                       "it in.", "CsrfToken", (), operation_id="session_csrf_token"),
    "/openapi.json": get("This description of the API.", "The OpenAPI 3 document.", "OpenAPI", (),
                         operation_id="session_openapi"),
    "/reps": get("The reps of the current dataset you may see, each with a summary of their focus, a page "
                 "at a time.", "The reps (none without a current dataset: period null).", "RepList", (400, 403),
                 PAGING, operation_id="reps_list"),
    "/reps/{rep_id}": get("One rep: summary, full focus, success plan, links.", "The rep.", "RepDetail",
                          REP_DATA, [REP_ID], operation_id="reps_detail"),
    "/reps/{rep_id}/metrics": get("The rep's metrics, funnel, benchmarks, goals and trends.",
                                  "The rep's entry of `fairway metrics --json`.", "RepMetrics", REP_DATA,
                                  [REP_ID], operation_id="reps_metrics"),
    "/reps/{rep_id}/diagnosis": get("The rep's focus and findings.", "The rep's entry of `fairway diagnose "
                                    "--json`.", "RepDiagnosis", REP_DATA, [REP_ID],
                                    operation_id="reps_diagnosis"),
    "/plans": get("Coaching plans in your scope, latest month first.", "The plans.", "PlanList", (400, 403), [
        query("status", {"type": "string", "enum": ["", *PLAN_STATUSES]}, "Only plans of this status."),
        REP_FILTER,
        query("month", MONTH_OR_EMPTY, "Only plans of this month (YYYY-MM)."), *PAGING], operation_id="plans_list"),
    "/plans/{plan_id}": get("One plan with its assignments.", "The plan.", "PlanDetail", REP_DATA,
                            [path_id("plan_id", "A plan within your scope.", 1)], operation_id="plans_detail"),
    "/assignments": get("Assignments in your scope, by due date.", "The assignments.", "AssignmentList",
                        (400, 403), [
        query("status", {"type": "string", "enum": ["", "open", "completed", "cancelled"]},
              "Only assignments of this status."),
        REP_FILTER,
        query("kind", {"type": "string", "enum": ["", "learning", "selling"]}, "Only learning or selling "
              "assignments."), *PAGING], operation_id="assignments_list"),
    "/assignments/{assignment_id}/complete": {"post": {
        "operationId": "assignments_complete", "tags": ["assignments"],
        "summary": "Mark an open assignment completed (by you, now).",
        "description": "Completing a completed assignment changes nothing and answers 200; a cancelled one "
                       "answers 409. Needs the X-CSRFToken header (GET /csrf-token).",
        "parameters": [path_id("assignment_id", "An assignment within your scope.", 1)],
        "security": [{"session": [], "csrf": []}],
        "responses": {"200": answer("The assignment, completed.", "Assignment"),
                      **{str(s): error(s) for s in (400, 401, 403, 404, 409)}}}},
    "/catalog/coverage": get("What `fairway catalog check` reports about the loaded catalog.",
                             "Coverage, errors and warnings.", "Coverage", (403,), operation_id="catalog_coverage"),
    "/cadence": get("Day 1: every rep in scope with the month's conversation, focus, open plans and "
                    "assignments due, a page at a time, with the counts of the whole scope.", "The month.",
                    "Cadence", (400, 403),
                    [query("team", {"type": "string", "maxLength": 200}, "Only this team."), *PAGING],
                    operation_id="rhythm_cadence"),
    "/rollup": get("Day 2: the roll-up per division, and the teams of one division.", "The roll-up.", "Rollup",
                   (400, 403, 404), [query("division", {"type": "string", "maxLength": 200},
                                           "The teams of this division (default: the only one in scope).")],
                   operation_id="rhythm_rollup"),
    "/rollup/teams/{team}": get("One team's reps: what skill, why, how.", "The team.", "RollupTeam", REP_DATA,
                                [{"name": "team", "in": "path", "required": True, "schema": {
                                    "type": "string", "minLength": 1, "maxLength": 200},
                                  "description": "A team within your scope.", "example": "north-isr-1"}],
                                operation_id="rhythm_rollup_team"),
    "/effectiveness": get("Coaching effectiveness per team and manager for a month.", "The figures with their "
                          "RAG against the targets of thresholds.yaml.", "Effectiveness", (400, 403),
                          [query("month", {"type": "string", "pattern": r"^((19[7-9]\d|20\d\d|2100)-(0[1-9]|1[0-2]))?$"},
                                 "The calendar month (YYYY-MM, 1970-2100; default: this month).")],
                          operation_id="rhythm_effectiveness"),
    "/report": get("The progress report of your scope.", "The report.", "Report", (400, 403, 404), [
        query("by", {"type": "string", "enum": ["", "division", "team", "rep"]}, "Group by (default team)."),
        query("grain", {"type": "string", "enum": ["", "day", "week", "month"]}, "Buckets (default day)."),
        query("month", MONTH_OR_EMPTY, "A month the current import holds (default: the month in progress)."),
        query("team", {"type": "string", "maxLength": 200}, "Only the reps of this team.")],
        operation_id="rhythm_report"),
    "/datasets/current": get("The dataset every page shows.", "Period and counts (admins: every field).",
                             "Dataset", (404,), operation_id="datasets_current"),
}


def spec() -> dict:
    """The OpenAPI document (a new dict on every call: callers may change theirs)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "fairway API", "version": __version__,
                 "description": "JSON under /api/v1 with the web app's authorisation: the same users, roles "
                                "and scopes, and the session cookie of /login. Every answer is strict JSON "
                                "(no NaN). Errors answer `{\"error\": {\"status\", \"message\"}}`; a method a "
                                "path does not take answers 405 (components/responses/E405). See docs/api.md."},
        "servers": [{"url": PREFIX}],
        "security": [{"session": []}],
        "paths": {path: _copy(item) for path, item in PATHS.items()},
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The session cookie set by signing in at /login."},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                         "description": "A token from GET /api/v1/csrf-token; every POST needs it."}},
            "schemas": _copy(SCHEMAS),
            "responses": {f"E{s}": {"description": text, "content": json_body(ref("Error"))}
                          for s, text in ERRORS.items()},
        },
    }


def _copy(value):
    import copy
    return copy.deepcopy(value)
