"""Security headers on every response, a Content-Security-Policy that /docs and /redoc live with,
and request ids and headers even on a 500."""

import base64
import hashlib
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core import health
from app.core.security import API_POLICY
from app.main import create_app
from tests.conftest import Database, Editing

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy


def test_every_kind_of_response_carries_the_security_headers(editing: Editing) -> None:
    api = editing.client
    etag = api.get("/api/v1/events/e2030").headers["etag"]
    responses = [
        api.get("/api/v1/events"),
        api.get("/api/v1/events/e2030"),
        api.get("/api/v1/events/e2030", headers={"If-None-Match": etag}),  # 304
        api.get("/api/v1/events.csv"),
        api.get("/api/v1/events/nope"),  # 404
        api.get("/api/v1/events?year=1"),  # 422
        api.get("/api/v1/events?actor=%00"),  # 422 before routing
        api.request("TRACE", "/api/v1/events"),  # 405
        api.post("/api/v1/events", json={}),  # 401
        api.post("/api/v1/events", content=b"x" * 2_000_000, headers=editing.auth),  # 413
        api.get("/healthz"),
        api.get("/openapi.json"),
        api.get("/docs"),
        api.get("/redoc"),
        api.get("/docs-assets/swagger-ui.css"),
        api.options(
            "/api/v1/events",
            headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
        ),
    ]
    for response in responses:
        assert_secured(response)
    assert responses[2].status_code == 304
    assert responses[0].headers["content-security-policy"] == API_POLICY


def test_a_500_carries_request_id_and_security_headers(
    empty_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: Starlette answers unhandled errors outside the app's middleware, so a 500
    had neither an X-Request-ID (to find it in the logs) nor the security headers."""

    def explode() -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "head_revision", explode)
    app = create_app(empty_database.settings(auto_migrate=False, auto_seed=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/readyz", headers={"X-Request-ID": "trace-me-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "trace-me-1"
    assert "boom" not in response.text
    assert_secured(response)
    app.state.database.engine.dispose()


def inline_script_hashes(html: str) -> list[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    ]


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parsed}


def test_swagger_ui_may_run_its_own_inline_script_and_nothing_else(client: TestClient) -> None:
    page = client.get("/docs")
    policy = directives(page.headers["content-security-policy"])
    hashes = inline_script_hashes(page.text)
    assert len(hashes) == 1  # the script that boots Swagger UI
    assert sorted(policy["script-src"]) == sorted(["'self'", *hashes])
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["connect-src"] == ["'self'"]  # "Try it out" calls this origin only
    assert policy["frame-ancestors"] == ["'none'"]
    # Everything the page loads comes from this origin.
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text):
        assert asset.startswith("/docs-assets/"), asset


def test_redoc_gets_only_what_its_bundle_needs(client: TestClient) -> None:
    page = client.get("/redoc")
    policy = directives(page.headers["content-security-policy"])
    assert inline_script_hashes(page.text) == []
    assert policy["script-src"] == ["'self'"]
    assert policy["worker-src"] == ["blob:"]
    # ReDoc writes <style> elements at run time; styles cannot run code.
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["'self'", "data:"]
