"""/docs and /redoc in a real browser, under their Content-Security-Policy: they render the
operations, and the browser reports no CSP violation (skipped where Chromium is missing)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live import serving

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# ReDoc's bundle shows its vendor's logo from cdn.redoc.ly, hard-coded; the policy refuses
# it, as the offline promise requires. Nothing else may be refused.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def render(url: str, profile: Path) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and the console messages Chromium logged."""
    assert CHROMIUM is not None
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return run.stdout, console


def violations(console: list[str]) -> list[str]:
    return [line for line in console if re.search(r"Content Security Policy", line)]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_docs_and_redoc_work_under_their_policy(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'docs.db'}", tmp_path / "server.log") as server:
        swagger, swagger_console = render(server.url + "/docs", tmp_path / "profile-docs")
        redoc, redoc_console = render(server.url + "/redoc", tmp_path / "profile-redoc")
    # Swagger UI rendered every operation, with its id.
    assert 'opblock-summary-operation-id">listEvents' in swagger
    assert swagger.count("opblock-summary-operation-id") >= 30
    assert violations(swagger_console) == []
    # ReDoc rendered the operations too.
    assert "listEvents" in redoc
    assert "Space Cooperation Timeline" in redoc
    assert [v for v in violations(redoc_console) if REDOC_LOGO not in v] == []
    print(
        f"\n[docs-browser] swagger operations={swagger.count('opblock-summary-operation-id')}, "
        f"csp violations: docs=0, redoc={len(violations(redoc_console))} (vendor logo only)"
    )
