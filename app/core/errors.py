"""RFC 9457 problem details for every error the API can give, and the handlers that send them."""

import logging
import math
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.text import suggest

log = logging.getLogger("app.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://space-timeline.example/problems/"


class ProblemError(Exception):
    """An error the API answers with a problem document; services raise its subclasses."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFoundError(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class UnknownValueError(ProblemError):
    """A filter names a value (actor, program, kind…) that does not exist."""

    status = 422
    slug = "unknown-value"
    title = "Unknown filter value"

    def __init__(self, unknown: list[tuple[str, str, list[str]]]) -> None:
        """`unknown` lists (parameter, value, suggestions) for every value not found."""
        sentences = []
        errors = []
        for parameter, value, suggestions in unknown:
            hint = f" — did you mean {_or_list(suggestions)}?" if suggestions else ""
            sentences.append(f"unknown {parameter.replace('_', ' ')} '{value}'{hint}")
            errors.append(
                {
                    "loc": ["query", parameter],
                    "msg": f"unknown {parameter} '{value}'",
                    "type": "unknown_value",
                    "input": value,
                    "suggestions": suggestions,
                }
            )
        super().__init__("; ".join(sentences), errors=errors)


class ConflictError(ProblemError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class InvalidCursorError(ProblemError):
    status = 422
    slug = "invalid-cursor"
    title = "Invalid cursor"


class NotReadyError(ProblemError):
    status = 503
    slug = "not-ready"
    title = "Not ready"


def _or_list(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response."""
    body = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(
        problem_bytes(body), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def problem_bytes(body: dict[str, Any]) -> bytes:
    """The problem as JSON; text that UTF-8 cannot carry (a lone surrogate from a JSON
    `"\\ud800"`, echoed back as the input refused) is written as its escape."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return orjson.dumps(_encodable(body))


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        item: dict[str, Any] = {"loc": loc, "msg": message, "type": error["type"]}
        raw = error.get("input")
        # Echo the input when JSON can say it: 1e999 parses to infinity, which it cannot.
        finite = not isinstance(raw, float) or math.isfinite(raw)
        if (isinstance(raw, str | int | float | bool) or raw is None) and finite:
            item["input"] = raw
        if error["type"] == "extra_forbidden":
            item["msg"] = f"unknown parameter '{loc[-1]}'"
        elif error["type"] == "enum" and isinstance(raw, str):
            expected = str(error.get("ctx", {}).get("expected", ""))
            options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
            options = [o for o in options if o]
            item["suggestions"] = suggest(raw, [(o, o) for o in options])
            item["allowed"] = options
            hint = item["suggestions"]
            item["msg"] = f"unknown value '{raw}'" + (
                f" — did you mean {_or_list(hint)}?" if hint else f"; one of {', '.join(options)}"
            )
        errors.append(item)
    return errors


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        names = [p for p in error["loc"][1:] if not p.isdigit()]
        where = names[0] if names else (error["loc"][0] if error["loc"] else "request")
        if error["type"] == "extra_forbidden" or where in ("query", "body", "path"):
            parts.append(error["msg"])
        else:
            parts.append(f"{where}: {error['msg']}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


_SQLITE_UNAVAILABLE = ("database is locked", "unable to open", "disk i/o", "database is busy")


def is_transaction_conflict(exc: DBAPIError) -> bool:
    """Whether the database aborted the transaction for colliding with another (SQLSTATE
    class 40: a deadlock, a serialization failure): nothing is wrong but the timing."""
    return str(getattr(exc.orig, "sqlstate", None) or "").startswith("40")


def is_unavailable(exc: DBAPIError) -> bool:
    """Whether a database error means "cannot reach it now" (503) rather than a bug (500)."""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError) or is_transaction_conflict(exc):
        return False
    if exc.__class__.__module__.startswith("sqlalchemy") and "sqlite" in repr(exc.orig.__class__):
        return any(text in str(exc.orig).lower() for text in _SQLITE_UNAVAILABLE)
    return True


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_PARAMETER = re.compile(r"\\\{[^/]+?\\\}")


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the resource at this path, for the Allow header of a 405.

    Starlette names only those of the first route that matched; the schema's most specific
    path (`/events/facets` before `/events/{event_id}`) says what the resource supports.
    """
    path = request.url.path
    templates = sorted(request.app.openapi()["paths"].items(), key=lambda t: t[0].count("{"))
    for template, operations in templates:
        if re.fullmatch(_PARAMETER.sub("[^/]+", re.escape(template)), path):
            return sorted(method.upper() for method in operations)
    # Pages outside the schema (/docs): every method some route serves here.
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def install_error_handlers(app: FastAPI, retry_after: int) -> None:
    """Answer every error, expected or not, with a problem document and never a stack trace."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> Response:
        return problem(
            exc.status, exc.title, exc.detail, slug=exc.slug, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        return problem(422, "Invalid request", _describe(errors), slug="validation", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = _HTTP_TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the methods of the first route that matched the path.
            allowed = _allowed_methods(request)
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            if detail == "Method Not Allowed":
                detail = f"{request.method} is not allowed on {request.url.path}"
        return problem(exc.status_code, title, detail, headers=headers)

    @app.exception_handler(PoolTimeoutError)
    async def _unavailable(_: Request, exc: Exception) -> Response:
        cause = getattr(exc, "orig", None) or exc  # the driver's words, not SQL or parameters
        reason = str(cause).strip().partition("\n")[0]
        log.warning("database unavailable: %s: %s", type(cause).__name__, reason)
        return problem(
            503,
            "Service unavailable",
            "the database is not answering; retry shortly",
            slug="database-unavailable",
            headers={"Retry-After": str(retry_after)},
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> Response:
        if is_unavailable(exc):
            return await _unavailable(_, exc)
        if is_transaction_conflict(exc):
            return problem(
                409,
                "Conflict",
                "a concurrent change collided with this request; retry it",
                slug="conflict",
                headers={"Retry-After": "1"},
            )
        log.exception("database error")
        return problem(500, "Internal server error", "an unexpected database error occurred")


class CrashMiddleware:
    """A 500 problem for any exception no handler answered, logged with its stack trace.

    Starlette's own last resort (ServerErrorMiddleware) sits outside every middleware: its
    500s would carry neither the request id nor the security headers. This layer sits inside
    them, answers as the app's other errors do, and raises the exception on, so the server
    ends the connection as after any crash.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            request_id = scope.get("state", {}).get("request_id")
            log.exception("unhandled error", exc_info=exc, extra={"request_id": request_id})
            if not started:
                response = problem(500, "Internal server error", "an unexpected error occurred")
                await response(scope, receive, send)
            raise
