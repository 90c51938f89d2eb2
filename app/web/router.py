"""`/`: the timeline page, and `/static/…`: its assets. Neither is part of the API schema."""

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"

# The page runs no inline script or style, so it works under the strictest same-origin policy.
CONTENT_SECURITY_POLICY = "default-src 'self'"
# Browsers revalidate (cheaply, by ETag) so a new release is never hidden by a stale cache.
REVALIDATE = "no-cache"

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
def timeline_page() -> FileResponse:
    """The single-page timeline, built only on the public JSON API."""
    return FileResponse(
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
