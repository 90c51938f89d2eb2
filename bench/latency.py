"""In-process latency: each request goes through the whole ASGI app (middleware, routing,
queries, validation, serialization) with no network, one at a time."""

import asyncio
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from app.core.config import Settings
from app.main import create_app
from bench.datasets import Dataset

PAGE_DEPTH = 200


@dataclass
class Timing:
    name: str
    url: str
    runs: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    bytes: int
    note: str = ""


def main_query(actor: str, year: int) -> str:
    """The issue's main query: actor X (sub-actors included) in year Y, 50 per page."""
    return "/api/v1/events?" + urlencode({"actor": actor, "year": year, "limit": 50})


def scenarios(dataset: Dataset) -> list[tuple[str, str]]:
    filters = urlencode({"actor": dataset.picks.actor, "year": dataset.picks.year})
    return [
        (
            "main query (events, actor+year, 50)",
            main_query(dataset.picks.actor, dataset.picks.year),
        ),
        ("facets (same filters)", f"/api/v1/events/facets?{filters}"),
        ("timeline (same filters, 50)", f"/api/v1/timeline?{filters}&limit=50"),
        ("CSV export (same filters, every match)", f"/api/v1/events.csv?{filters}"),
    ]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100) of the values."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


async def _time(
    client: httpx.AsyncClient, name: str, url: str, runs: int, warmup: int, budget: float
) -> Timing:
    """Warm up, then time up to `runs` sequential requests, stopping after `budget` seconds."""
    response = await client.get(url)
    response.raise_for_status()
    warm_until = time.perf_counter() + budget / 3  # slow endpoints at 1M: bounded warm-up
    for _ in range(warmup - 1):
        if time.perf_counter() > warm_until:
            break
        await client.get(url)
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < runs and time.perf_counter() < deadline:
        started = time.perf_counter()
        response = await client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    note = "" if len(samples) >= runs else f"stopped after {budget:.0f} s"
    return Timing(
        name,
        url,
        len(samples),
        round(percentile(samples, 50), 2),
        round(percentile(samples, 99), 2),
        round(statistics.fmean(samples), 2),
        len(response.content),
        note,
    )


async def _walk(client: httpx.AsyncClient, url: str, depth: int) -> tuple[str, int]:
    """Follow `next_cursor` from page 1 to page `depth` (or the last page); its URL and number."""
    page_url, page = url, 1
    while page < depth:
        body = (await client.get(page_url)).json()
        if body["next_cursor"] is None:
            break
        page_url = f"{url}&{urlencode({'cursor': body['next_cursor']})}"
        page += 1
    return page_url, page


async def _measure(
    dataset: Dataset, runs: int, warmup: int, budget: float, log_path: Path, only_main: bool
) -> tuple[list[Timing], int]:
    # The work of each request: no response comes from memory (only the count behind
    # `total`, as issue 7 allows, and the resolved filters stay cached per data version).
    settings = Settings(
        database_url=dataset.url, auto_migrate=False, auto_seed=False, response_cache_entries=0
    )
    app = create_app(settings)
    # Access logs stay on (they are part of a request's cost) but go to a file.
    with log_path.open("a") as log_file:
        for handler in logging.getLogger("app").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(log_file)
        transport = httpx.ASGITransport(app=app)
        # The app's lifespan runs as under uvicorn (it opens the PostgreSQL loop pool).
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            chosen = scenarios(dataset)[:1] if only_main else scenarios(dataset)
            timings = [await _time(client, n, u, runs, warmup, budget) for n, u in chosen]
            total = int((await client.get(chosen[0][1])).json()["total"])
            if not only_main:
                first = "/api/v1/events?limit=50"
                deep, number = await _walk(client, first, PAGE_DEPTH)
                timings.append(
                    await _time(client, "page 1 (all events, 50)", first, runs, warmup, budget)
                )
                deep_timing = await _time(
                    client, f"page {PAGE_DEPTH} via cursor", deep, runs, warmup, budget
                )
                if number < PAGE_DEPTH:
                    deep_timing.note = f"only {number} pages exist"
                timings.append(deep_timing)
    return timings, total


def measure(
    dataset: Dataset,
    *,
    runs: int,
    warmup: int,
    budget: float,
    log_path: Path,
    only_main: bool = False,
) -> tuple[list[Timing], int]:
    """p50/p99 of each scenario on this dataset, and how many events the main query matches."""
    return asyncio.run(_measure(dataset, runs, warmup, budget, log_path, only_main))
