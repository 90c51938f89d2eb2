"""CORS: reads from any configured origin, writes only from the origins trusted to write.

Two policies, each a Starlette `CORSMiddleware`: a preflight asking for `GET`/`HEAD` with
the read headers gets the read policy (`CORS_ORIGINS`, `*` by default); one asking for any
other method, or to send `Authorization`, gets the write policy (`CORS_WRITE_ORIGINS`, none
by default), and so do the actual writes. A refused preflight is a problem document.
"""

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import problem

READ_METHODS = ["GET", "HEAD", "OPTIONS"]
WRITE_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PATCH", "PUT", "DELETE"]
READ_HEADERS = ["If-None-Match", "X-Request-ID"]
WRITE_HEADERS = [
    *READ_HEADERS,
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    "X-Change-Reason",
]
EXPOSED = ["Link", "ETag", "Location", "Retry-After", "X-Request-ID"]


class ProblemCORS(CORSMiddleware):
    """Starlette's CORS, answering a refused preflight with problem+json, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in response.headers.items() if k.startswith("access-control")}
        return problem(
            400,
            "Bad request",
            f"this cross-origin request is not allowed: {refused} "
            "(writes are allowed only from CORS_WRITE_ORIGINS)",
            slug="cors-refused",
            headers={**headers, "Vary": "Origin"},
        )


class SplitCORS:
    """Send each request to the read or the write CORS policy."""

    def __init__(self, app: ASGIApp, *, read: list[str], write: list[str]) -> None:
        self.reads = ProblemCORS(
            app,
            allow_origins=read,
            allow_methods=READ_METHODS,
            allow_headers=READ_HEADERS,
            expose_headers=EXPOSED,
        )
        self.writes = ProblemCORS(
            app,
            allow_origins=write,
            allow_methods=WRITE_METHODS,
            allow_headers=WRITE_HEADERS,
            expose_headers=EXPOSED,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.reads(scope, receive, send)
            return
        policy = self.reads if _is_read(scope) else self.writes
        await policy(scope, receive, send)


def _is_read(scope: Scope) -> bool:
    method = scope["method"]
    if method != "OPTIONS":
        return method in ("GET", "HEAD")
    headers = Headers(scope=scope)
    wanted = headers.get("access-control-request-method")
    if wanted is None:
        return True  # not a preflight: the route answers (405)
    asked = {
        h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",")
    }
    return wanted.upper() in ("GET", "HEAD") and asked - {""} <= {h.lower() for h in READ_HEADERS}


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Add the CORS layer (reads: CORS_ORIGINS; writes: CORS_WRITE_ORIGINS)."""
    app.add_middleware(SplitCORS, read=settings.cors_origins, write=settings.cors_write_origins)
