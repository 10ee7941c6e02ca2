"""The OpenAPI description (web/api/openapi.py) against the app: every /api/v1 route
described with its methods and parameters, nothing described that does not exist, a valid
OpenAPI 3 document, served to signed-in users."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from web.api.openapi import PREFIX, spec

IMPLICIT = {"HEAD", "OPTIONS"}          # added by Flask to every route


def api_routes(app) -> dict[tuple[str, str], set[str]]:
    """(OpenAPI path, method) -> the URL arguments of every /api/v1 route of the app."""
    out = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", rule.rule[len(PREFIX):])
        for method in rule.methods - IMPLICIT:
            out[(path, method.lower())] = set(rule.arguments)
    return out


def described(doc: dict) -> dict[tuple[str, str], dict]:
    return {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}


def test_the_description_is_valid_openapi():
    validate(spec())


def test_every_api_route_is_described_and_nothing_else(app):
    routes, ops = api_routes(app), described(spec())
    assert sorted(set(routes) - set(ops)) == [], "routes missing from web/api/openapi.py"
    assert sorted(set(ops) - set(routes)) == [], "described in web/api/openapi.py, but no such route"
    for key, arguments in routes.items():
        in_path = {p["name"] for p in ops[key].get("parameters", []) if p["in"] == "path"}
        assert in_path == arguments, f"{key}: path parameters {in_path} for the route's {arguments}"


def test_every_operation_documents_its_answers_and_errors():
    doc = spec()
    errors = doc["components"]["responses"]
    assert {"E400", "E401", "E403", "E404", "E405", "E409"} <= set(errors)
    assert all(r["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
               for r in errors.values())
    for (path, method), op in described(doc).items():
        responses = op["responses"]
        assert "200" in responses and "401" in responses, f"{method} {path}"
        assert "application/json" in responses["200"]["content"], f"{method} {path}"
        if method == "post":
            assert op["security"] == [{"session": [], "csrf": []}] and "400" in responses, f"{method} {path}"
        if "{" in path:
            assert "404" in responses, f"{method} {path}: a path with an id answers 404"
        if any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "400" in responses, f"{method} {path}: query parameters that do not fit answer 400"


def test_the_description_is_served_to_signed_in_users(client, auth):
    assert client.get("/api/v1/openapi.json").status_code == 401
    auth.login("trainer")
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.get_json() == spec()


def test_a_method_a_path_does_not_take_answers_405_with_allow(client, auth):
    auth.login("manager")
    r = client.delete("/api/v1/reps")
    assert r.status_code == 405 and r.get_json()["error"]["status"] == 405
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("url", ["/api/v1/plans/99999999999999999999", "/api/v1/plans/2147483648"])
def test_ids_beyond_the_database_answer_404(client, auth, url):
    """An id no 32-bit column holds is no route at all (it used to reach the database)."""
    auth.login("manager")
    r = client.get(url)
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("url", ["/archive/plan/99999999999999999999", "/admin/users/99999999999999999999"])
def test_pages_too_take_no_id_beyond_the_database(client, auth, url):
    auth.login("admin")
    assert client.get(url).status_code == 404
