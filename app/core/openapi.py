"""The OpenAPI document, made to say what the app really answers.

FastAPI documents a 422 as `application/json` with its own error shape, and nothing else. This
app answers every error as RFC 9457 `application/problem+json`, may answer 304 to any GET that
carries an ETag, 404 to any path naming a record, 400 to a body it cannot parse, and 503 to
anything that needs the database while it is away. Clients generated from the schema, and the
contract tests that fuzz it, rely on those being written down.
"""

from typing import Any

from fastapi import FastAPI

from app.core.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; `errors` lists field-level problems.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What was wrong, for a person."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                    "suggestions": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["loc", "msg", "type"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer"},
}
DESCRIPTIONS = {
    "304": "Not modified: the ETag sent in If-None-Match is still current",
    "400": "The body could not be parsed (e.g. nested too deeply)",
    "404": "No record with that id",
    "422": "Invalid request: a parameter or field is malformed, unknown or inconsistent",
    "503": "The database is unavailable; retry after Retry-After seconds",
}
# Answered without touching the database, so never 503.
_NO_DATABASE = {"getHealth"}


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with one that documents problems, 304s, 404s and 503s."""

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(generate())  # FastAPI caches it in app.openapi_schema
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(schema: dict[str, Any]) -> None:
    """Declare, on every operation, the error answers the app's handlers really give."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            _document(method, operation)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _document(method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    if method == "get" and operation["operationId"] not in {"getHealth", "getReadiness"}:
        responses.setdefault("304", {"description": DESCRIPTIONS["304"]})
    if any(p["in"] == "path" for p in parameters):
        responses.setdefault("404", {"description": DESCRIPTIONS["404"]})
    if "requestBody" in operation:
        responses.setdefault("400", {"description": DESCRIPTIONS["400"]})
    if parameters or "requestBody" in operation:
        responses.setdefault("422", {"description": DESCRIPTIONS["422"]})
    if operation["operationId"] not in _NO_DATABASE:
        responses.setdefault("503", {"description": DESCRIPTIONS["503"]})
        responses["503"]["headers"] = {"Retry-After": RETRY_AFTER}
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
            if status == "422" and response.get("description") == "Validation Error":
                response["description"] = DESCRIPTIONS["422"]
