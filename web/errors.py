"""Error pages that answer HTML or JSON as the client asks (API paths always JSON)."""
from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return _respond(400, "The form expired or came from elsewhere; reload the page and try again.")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err):
        from engine.files import human_size
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return _respond(413, f"The upload is larger than {human_size(limit)}, the limit of one request. "
                             "Upload fewer or smaller files (a .zip of them is smaller), or import large "
                             "datasets from a server folder." if limit else err.description)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        response = _respond(err.code or 500, err.description or err.name)
        if isinstance(err, MethodNotAllowed) and err.valid_methods:     # a 405 says what the path takes
            response.headers["Allow"] = ", ".join(sorted(err.valid_methods))
        return response


def _respond(code: int, message: str):
    if wants_json():
        response = jsonify({"error": {"status": code, "message": message}})
    else:
        response = make_response(render_template("error.html", code=code, message=message))
    response.status_code = code
    return response
