"""Swagger UI and ReDoc served from the app, with assets from the fastapi-offline package."""

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSET_PATH = "/docs-assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Both pages load their scripts, styles and the schema from this origin only.
_PAGE_POLICY = (
    "default-src 'none'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def script_hashes(html: str) -> list[str]:
    """CSP source expressions for the inline scripts of a page (Swagger UI boots from one)."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    ]


def with_policy(page: HTMLResponse, *directives: str) -> HTMLResponse:
    """The page with a Content-Security-Policy allowing its own inline scripts, and no other."""
    scripts = " ".join(["'self'", *script_hashes(bytes(page.body).decode())])
    policy = "; ".join([_PAGE_POLICY, f"script-src {scripts}", *directives])
    page.headers["Content-Security-Policy"] = policy
    return page


def install_docs(app: FastAPI) -> None:
    """Mount /docs and /redoc so they work offline: no CDN, fonts or logos from elsewhere."""
    app.mount(ASSET_PATH, StaticFiles(directory=ASSETS), name="docs-assets")
    router = APIRouter(include_in_schema=False)
    title = app.title

    @router.get("/docs")
    def swagger() -> HTMLResponse:
        return with_policy(swagger_page(), "style-src 'self'")

    @router.get("/redoc")
    def redoc() -> HTMLResponse:
        # ReDoc styles itself with <style> elements it makes at run time, and renders in a worker.
        return with_policy(redoc_page(), "style-src 'self' 'unsafe-inline'", "worker-src blob:")

    def swagger_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} — Swagger UI",
            swagger_js_url=f"{ASSET_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSET_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSET_PATH}/favicon.png",
            swagger_ui_parameters={
                "validatorUrl": None,
                "tryItOutEnabled": True,
                "displayOperationId": True,
                "defaultModelsExpandDepth": 0,
            },
        )

    def redoc_page() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{title} — ReDoc",
            redoc_js_url=f"{ASSET_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSET_PATH}/favicon.png",
            with_google_fonts=False,
        )

    app.include_router(router)
