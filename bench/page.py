"""How fast the timeline page at `/` shows the events in headless Chromium (issue 9: under a
second on localhost). The page marks `timeline-ready` once the first page of events is drawn;
each load here is a fresh browser profile, so nothing comes from the browser's cache."""

import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import Server, app_command, free_port, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


@dataclass
class PageTiming:
    loads: int
    ready_ms: list[float]  # `timeline-ready` mark, from navigation start
    load_event_ms: list[float]  # the window's load event

    def summary(self) -> str:
        def stats(values: list[float]) -> str:
            ordered = sorted(values)
            p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
            return (
                f"p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms, "
                f"max {ordered[-1]:.0f} ms"
            )

        return (
            f"{self.loads} cold loads of / (fresh profile each):\n"
            f"  events shown (timeline-ready): {stats(self.ready_ms)}\n"
            f"  window load event:             {stats(self.load_event_ms)}"
        )


def _driver(profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(20)
    return driver


def _one_load(server: Server) -> tuple[float, float]:
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp(prefix="bench-page-")
    driver = _driver(profile)
    try:
        driver.get(f"{server.base}/")
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script(
                "return performance.getEntriesByName('timeline-ready').length"
            )
        )
        ready, loaded = driver.execute_script(
            "return [performance.getEntriesByName('timeline-ready')[0].startTime,"
            " performance.getEntriesByType('navigation')[0].loadEventEnd]"
        )
        return float(ready), float(loaded)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def measure(loads: int, out: Path) -> PageTiming:
    """Serve the seeded dataset on SQLite as `make run` does, then load the page `loads` times."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        sys.exit("missing Chromium: apt-get install -y chromium chromium-driver")
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{out / 'page.db'}",
        "AUTO_MIGRATE": "true",
        "AUTO_SEED": "true",
        "WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    ready, loaded = [], []
    with serve(app_command(port), env, port, out / "page-server.log", "/readyz") as server:
        _one_load(server)  # untimed: the server's first answers fill its caches
        for _ in range(loads):
            r, lo = _one_load(server)
            ready.append(r)
            loaded.append(lo)
    return PageTiming(loads, ready, loaded)
