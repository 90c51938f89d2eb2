"""The timeline page at `/` (issue 9): served without inline code, and used in a real browser.

The browser tests drive Debian's headless Chromium through its chromedriver against a live
uvicorn server on the seeded database (SQLite and PostgreSQL, like every API test). They skip
with a message where Chromium, chromedriver or Selenium are missing.

`UPDATE_SCREENSHOTS=1 pytest tests/test_web.py` also rewrites docs/screenshots/*.png.
"""

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.main import create_app
from app.web.router import STATIC_DIR
from tests.conftest import Database

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
MEMORANDUM_QUOTE = "Russia and China signed a memorandum of understanding Tuesday"


class _Page(HTMLParser):
    """Every tag of a page with its attributes, and the text inside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.inline.append(f"<{self._in}>{data.strip()[:60]}")


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_the_page_is_served_at_the_root_outside_the_api_schema(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert client.head("/").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert [
        p for p in paths if not p.startswith("/api/v1/") and p not in ("/healthz", "/readyz")
    ] == []


def test_the_page_has_no_inline_script_style_or_handler(client: TestClient) -> None:
    page = _parse(client.get("/").text)
    assert page.inline == []
    offending = [
        (tag, name)
        for tag, attrs in page.tags
        for name in attrs
        if name == "style" or name.startswith("on") or name == "srcdoc"
    ]
    assert offending == []
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/static/js/main.js"}]


def test_every_asset_is_local_and_served(client: TestClient) -> None:
    page = _parse(client.get("/").text)
    assets = [
        attrs.get("href") or attrs.get("src") or ""
        for tag, attrs in page.tags
        if tag in ("link", "script")
    ]
    assert assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "no-cache", asset
    modules = {path.name for path in (STATIC_DIR / "js").glob("*.js")}
    preloaded = {Path(a).name for a in assets if a.startswith("/static/js/")}
    assert preloaded == modules


def test_the_scripts_never_write_html_and_load_nothing_from_elsewhere() -> None:
    """Data reaches the DOM only as text: no HTML parsing sinks, no eval, no remote URLs."""
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
        r"|setAttribute\(\s*[\"']style|setAttribute\(\s*[\"']on|https?://"
    )
    found = []
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.suffix in (".js", ".css", ".html"):
            text = path.read_text(encoding="utf-8")
            for line_number, line in enumerate(text.splitlines(), 1):
                if forbidden.search(line.replace("http://www.w3.org/2000/svg", "")):
                    found.append(f"{path.name}:{line_number}: {line.strip()}")
    assert found == []


# The browser tests.


def _skip_without_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"browser tests need Debian's Chromium and chromedriver ({', '.join(missing)} "
            "missing): apt-get install chromium chromium-driver"
        )
    pytest.importorskip("selenium", reason="browser tests need selenium (the dev extra)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, with a fresh profile and every log recorded."""
    _skip_without_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="timeline-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def live_server(seeded_database: Database) -> Iterator[str]:
    """The app served by uvicorn on a free 127.0.0.1 port, in a thread of this process."""
    _skip_without_browser()
    app = create_app(seeded_database.settings(auto_migrate=False, auto_seed=False))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", workers=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _wait(driver: Any, what: Callable[[Any], Any], message: str, timeout: float = 10) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(what, message)


def _ready(driver: Any, cards: int) -> None:
    """Wait until the page has rendered a view with this many events."""
    script = (
        "return document.documentElement.dataset.view === 'ready' ? "
        "document.querySelectorAll('#events .event-card').length : -1"
    )
    _wait(driver, lambda d: d.execute_script(script) == cards, f"{cards} events shown")


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _screenshot(driver: Any, name: str, folder: Path, backend: str) -> None:
    driver.save_screenshot(str(folder / name))
    if UPDATE_SCREENSHOTS and backend == "sqlite":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / name))


def _key(driver: Any, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def _focused(driver: Any) -> dict[str, Any]:
    return dict(
        driver.execute_script(
            "const e = document.activeElement, s = getComputedStyle(e);"
            "return {tag: e.tagName, cls: e.className, id: e.dataset.id || e.id,"
            " outline: s.outlineStyle + ' ' + s.outlineWidth};"
        )
    )


def _offsite_requests(driver: Any, base: str) -> list[str]:
    """URLs the page requested from anywhere but the test server, from Chrome's logs."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert urls, "the performance log recorded no requests"
    # Only network requests can leave the machine: the browser's own chrome://, data: and
    # blob: loads (a new-tab page, say) never do.
    network = [url for url in urls if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
    return [url for url in network if not url.startswith(f"{base}/")]


def _severe(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_the_timeline_page_in_a_browser(
    browser: Any, live_server: str, backend: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, base = browser, live_server
    api = httpx.Client(base_url=base)
    everything = api.get("/api/v1/events", params={"limit": 200}).json()
    roscosmos = api.get("/api/v1/events", params={"actor": "roscosmos", "limit": 200}).json()
    assert everything["next_cursor"] is None
    driver.get_log("browser")
    driver.get_log("performance")

    # The whole timeline, drawn: solid when occurred, hollow when planned, disputed as a range.
    _viewport(driver, 1280, 900)
    driver.get(f"{base}/")
    _ready(driver, everything["total"])
    # `make bench-page` times this mark; here it only has to be set once the events are drawn.
    marks = driver.execute_script("return performance.getEntriesByName('timeline-ready').length")
    assert marks == 1
    status = driver.find_element(By.ID, "status").text
    assert status == f"{everything['total']} events."
    disputed = sorted(e["id"] for e in everything["items"] if e["disputed"])
    ranges = driver.find_elements(By.CSS_SELECTOR, "#chart .range.disputed + .mark.disputed")
    assert sorted({r.get_attribute("data-id") for r in ranges}) == disputed
    colours = driver.execute_script(
        "return [...document.querySelectorAll('#chart .mark')].map(m => "
        "[m.classList.contains('planned'), getComputedStyle(m).backgroundColor])"
    )
    assert {bg for planned, bg in colours if planned} == {"rgb(255, 255, 255)"}
    assert "rgb(255, 255, 255)" not in {bg for planned, bg in colours if not planned}
    legend = driver.find_element(By.CSS_SELECTOR, "#legend .legend-programs").text
    for name in {p["name"] for e in everything["items"] for p in e["programs"]}:
        assert name in legend
    _screenshot(driver, "timeline-desktop.png", tmp_path, backend)

    # Filter by actor through the type-ahead: the URL, the links and the counts follow.
    box = driver.find_element(By.ID, "f-actor")
    box.click()
    box.send_keys("rosc")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#actor-options li.option"), "options")
    options = driver.find_elements(By.CSS_SELECTOR, "#actor-options li.option")
    assert [o.get_attribute("data-value") for o in options] == ["roscosmos"]
    box.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    _wait(driver, lambda d: urlsplit(d.current_url).query == "actor=roscosmos", "URL updated")
    _ready(driver, roscosmos["total"])
    assert driver.find_element(By.CSS_SELECTOR, "#actor-chips .chip-label").text == "Roscosmos"
    api_url = driver.find_element(By.ID, "api-url").get_attribute("value")
    assert api_url == f"{base}/api/v1/events?actor=roscosmos"
    links = {
        link.get_attribute("id"): link.get_dom_attribute("href")
        for link in driver.find_elements(By.CSS_SELECTOR, ".downloads a")
    }
    assert links == {
        "dl-csv": "/api/v1/events.csv?actor=roscosmos",
        "dl-ics": "/api/v1/events.ics?actor=roscosmos",
        "dl-timelinejs": "/api/v1/timeline?format=timelinejs&actor=roscosmos",
        "open-docs": "/docs#/events/listEvents",
    }
    facets = api.get("/api/v1/events/facets", params={"actor": "roscosmos"}).json()
    shown = {
        item.get_attribute("data-value"): int(item.find_element(By.CSS_SELECTOR, ".count").text)
        for item in driver.find_elements(By.CSS_SELECTOR, "#status-options li")
    }
    assert shown == {"occurred": 0, "planned": 0, "cancelled": 0} | {
        s["value"]: s["count"] for s in facets["status"]
    }

    # Back and forward restore the state.
    driver.back()
    _ready(driver, everything["total"])
    assert driver.find_elements(By.CSS_SELECTOR, "#actor-chips .chip") == []
    driver.forward()
    _ready(driver, roscosmos["total"])

    # A shared link opens the same view; the keyboard reaches the list and opens an event.
    driver.get(driver.current_url)
    _ready(driver, roscosmos["total"])
    assert driver.find_element(By.CSS_SELECTOR, "#actor-chips .chip-label").text == "Roscosmos"
    _key(driver, Keys.TAB)
    assert _focused(driver)["cls"] == "skip-link"
    _key(driver, Keys.ENTER)
    assert _focused(driver)["id"] == "events-heading"
    _key(driver, Keys.TAB)
    first = _focused(driver)
    assert first["cls"] == "event-card"
    assert first["id"] == roscosmos["items"][0]["id"]
    assert first["outline"] == "solid 3px", "focus must be visible"
    for _ in range(roscosmos["total"]):
        if _focused(driver)["id"] == "ilrs-memorandum":
            break
        _key(driver, Keys.TAB)
    assert _focused(driver)["id"] == "ilrs-memorandum"
    _key(driver, Keys.ENTER)
    _wait(
        driver,
        lambda d: MEMORANDUM_QUOTE in d.find_element(By.ID, "detail-body").text,
        "the memorandum's quotes",
    )
    detail = driver.find_element(By.ID, "detail").text
    assert "9 March 2021" in detail
    assert "Signatories" in detail
    assert "Roscosmos" in detail
    assert "publisher not named" in detail
    assert "(estimated)" in detail
    assert urlsplit(driver.current_url).fragment == "event=ilrs-memorandum"
    _key(driver, Keys.ESCAPE)
    _wait(driver, lambda d: not d.find_element(By.ID, "detail").get_attribute("open"), "closed")
    _wait(driver, lambda d: urlsplit(d.current_url).fragment == "", "the URL loses the event")
    assert _focused(driver)["id"] == "ilrs-memorandum"

    # A disputed event shows each claim side by side, with its sources.
    driver.get(f"{base}/#event=russia-iss-exit")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".claims .claim"), "the claims")
    claims = api.get("/api/v1/events/russia-iss-exit").json()["date_claims"]
    headings = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".claims .claim h4")]
    assert headings == [claim["label"] for claim in claims]
    driver.find_element(By.ID, "detail-close").click()

    # 360 px wide: nothing scrolls sideways.
    _viewport(driver, 360, 780)
    driver.get(f"{base}/")
    _ready(driver, everything["total"])
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
    _screenshot(driver, "timeline-mobile.png", tmp_path, backend)

    assert _offsite_requests(driver, base) == []
    assert _severe(driver) == []
    api.close()


def test_a_search_keeps_the_time_order(browser: Any, live_server: str) -> None:
    """`q` alone sorts the API by relevance; the page asks for date order, and says so."""
    from selenium.webdriver.common.by import By

    driver = browser
    _viewport(driver, 1280, 900)
    expected = httpx.get(f"{live_server}/api/v1/events?q=station&sort=date&limit=200").json()
    driver.get(f"{live_server}/?q=station")
    _ready(driver, expected["total"])
    shown = [c.get_attribute("data-id") for c in driver.find_elements(By.CLASS_NAME, "event-card")]
    assert shown == [event["id"] for event in expected["items"]]
    api_url = driver.find_element(By.ID, "api-url").get_attribute("value")
    assert api_url == f"{live_server}/api/v1/events?q=station&sort=date"
    assert driver.find_element(By.ID, "f-q").get_attribute("value") == "station"
    assert _severe(driver) == []


def test_the_time_axis_is_one_tab_stop_walked_with_arrow_keys(
    browser: Any, live_server: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    in_order = httpx.get(f"{live_server}/api/v1/events?limit=200").json()["items"]
    _viewport(driver, 1280, 900)
    driver.get(f"{live_server}/")
    _ready(driver, len(in_order))
    stops = driver.find_elements(By.CSS_SELECTOR, "#chart .mark[tabindex='0']")
    assert [stop.get_attribute("data-id") for stop in stops] == [in_order[0]["id"]]
    driver.execute_script("document.getElementById('copy-url').focus()")
    _key(driver, Keys.TAB)
    assert _focused(driver)["id"] == in_order[0]["id"]
    _key(driver, Keys.ARROW_RIGHT)
    assert _focused(driver)["id"] == in_order[1]["id"]
    _key(driver, Keys.ENTER)
    _wait(
        driver,
        lambda d: d.find_element(By.ID, "detail-title").text == in_order[1]["title"],
        "the second event's detail",
    )
    _key(driver, Keys.ESCAPE)
    _wait(driver, lambda d: not d.find_element(By.ID, "detail").get_attribute("open"), "closed")
    assert _focused(driver)["cls"].split()[0] == "mark"
    assert _focused(driver)["id"] == in_order[1]["id"]
    assert _severe(driver) == []


def test_an_unknown_actor_is_explained_and_fixed_in_one_click(
    browser: Any, live_server: str
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    roscosmos = httpx.get(f"{live_server}/api/v1/events?actor=roscosmos&limit=200").json()
    _viewport(driver, 1280, 900)
    driver.get(f"{live_server}/?actor=rosmos")
    _ready(driver, 0)
    alert = driver.find_element(By.ID, "error")
    assert "unknown actor 'rosmos' — did you mean 'roscosmos'?" in alert.text
    alert.find_element(By.CSS_SELECTOR, "button.suggestion").click()
    _wait(driver, lambda d: urlsplit(d.current_url).query == "actor=roscosmos", "URL fixed")
    _ready(driver, roscosmos["total"])
    assert not driver.find_element(By.ID, "error").is_displayed()
    failed = [m for m in _severe(driver) if "422" not in m]
    assert failed == [], "only the refused query itself may log an error"
