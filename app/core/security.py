"""Security headers on every response, and URLs with NUL characters refused before routing."""

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE, PROBLEM_JSON

# The API answers JSON, CSV and calendars: nothing in them may load, run or be framed.
# /docs and /redoc send a policy of their own (app/core/docs.py).
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", API_POLICY),
)


class SecurityHeadersMiddleware:
    """Add the security headers to every response that does not set them itself."""

    _headers = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in self._headers if h[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_secured)


class RejectNulMiddleware:
    """422 for a path or query with a NUL character: no id, name or word contains one, and
    PostgreSQL cannot even compare text with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            body = orjson.dumps(
                {
                    "type": PROBLEM_BASE + "invalid-characters",
                    "title": "Invalid characters",
                    "status": 422,
                    "detail": "the URL contains a NUL character (%00), which no value may hold",
                }
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 422,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query
