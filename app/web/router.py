"""`/`: the timeline page, and `/static/…`: its assets. Neither is part of the API schema."""

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON, problem_bytes

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"

# The page runs no inline script or style, so it works under the strictest same-origin policy.
CONTENT_SECURITY_POLICY = "default-src 'self'"
# Browsers revalidate (cheaply, by ETag) so a new release is never hidden by a stale cache.
REVALIDATE = "no-cache"

router = APIRouter(include_in_schema=False)


def problems_for_plain_errors(send: Send) -> Send:
    """`send`, turning the plain-text 400 and 416 that Starlette's file responses give for a
    bad `Range` header into problem documents, like every other error."""
    held: Message | None = None

    async def send_problem(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and message["status"] in (400, 416):
            held = message
            return
        if held is None or message["type"] != "http.response.body":
            await send(message)
            return
        status, start, held = held["status"], held, None
        detail = bytes(message.get("body", b"")).decode("utf-8", "replace").strip()
        if status == 416 or not detail:
            detail = "the Range header asks for bytes outside the file"
        body = problem_bytes(
            {
                "type": "about:blank",
                "title": "Range not satisfiable" if status == 416 else "Bad request",
                "status": status,
                "detail": detail,
            }
        )
        kept = [
            (k, v) for k, v in start["headers"] if k not in (b"content-type", b"content-length")
        ]
        kept += [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({**start, "headers": kept})
        await send({"type": "http.response.body", "body": body})

    return send_problem


class PageFile(FileResponse):
    """A file of the page; a bad Range header gets a problem document."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, problems_for_plain_errors(send))


@router.api_route("/", methods=["GET", "HEAD"])
def timeline_page() -> FileResponse:
    """The single-page timeline, built only on the public JSON API."""
    return PageFile(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": REVALIDATE,
            "X-Content-Type-Options": "nosniff",
        },
    )


class PageAssets(StaticFiles):
    """The page's CSS, JavaScript modules and icon, always revalidated by the browser."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, problems_for_plain_errors(send))

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def page_assets() -> PageAssets:
    """The app mounts this at STATIC_PATH."""
    return PageAssets(directory=STATIC_DIR)
