"""In-process latency: each request goes through the whole ASGI app (middleware, routing,
queries, validation, serialization) with no network, one at a time."""

import asyncio
import logging
import statistics
import time
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from bench.datasets import Dataset
from bench.model import Timing, main_query

PAGE_DEPTH = 200


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


# One endpoint of one app: the client that reaches the app, the endpoint's name, its URL.
Probe = tuple[httpx.AsyncClient, str, str]


async def _time_together(
    probes: list[Probe], runs: int, warmup: int, budget: float
) -> list[Timing]:
    """Warm up, then time up to `runs` sequential requests of each probe, stopping after
    `budget` seconds per probe. With several probes their requests alternate, so the
    endpoints compared (page 200 with page 1, PostgreSQL with SQLite) see the machine in the
    same state: timed one after the other, a slow spell of a shared machine fell on one."""
    for client, _, url in probes:
        response = await client.get(url)
        response.raise_for_status()
    warm_until = time.perf_counter() + budget / 3  # slow endpoints at 1M: bounded warm-up
    for _ in range(warmup - 1):
        if time.perf_counter() > warm_until:
            break
        for client, _, url in probes:
            await client.get(url)
    samples: list[list[float]] = [[] for _ in probes]
    sizes = [0 for _ in probes]
    deadline = time.perf_counter() + budget * len(probes)
    while len(samples[0]) < runs and time.perf_counter() < deadline:
        for index, (client, _, url) in enumerate(probes):
            started = time.perf_counter()
            response = await client.get(url)
            samples[index].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
            sizes[index] = len(response.content)
    return [
        Timing(
            name,
            url,
            len(taken),
            round(percentile(taken, 50), 2),
            round(percentile(taken, 99), 2),
            round(statistics.fmean(taken), 2),
            size,
            "" if len(taken) >= runs else f"stopped after {budget:.0f} s",
        )
        for (_, name, url), taken, size in zip(probes, samples, sizes, strict=True)
    ]


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


def _app(dataset: Dataset) -> FastAPI:
    # The work of each request: no response comes from memory (only the count behind
    # `total`, as issue 7 allows, and the resolved filters stay cached per data version).
    settings = Settings(
        database_url=dataset.url, auto_migrate=False, auto_seed=False, response_cache_entries=0
    )
    return create_app(settings)


async def _measure(
    datasets: list[Dataset],
    runs: int,
    warmup: int,
    budget: float,
    log_path: Path,
    only_main: bool,
) -> tuple[list[list[Timing]], int]:
    """Each dataset's timings (its scenarios, then page 1 and page 200), the datasets'
    requests alternated, and how many events the first one's main query matches."""
    apps = [_app(dataset) for dataset in datasets]
    # Access logs stay on (they are part of a request's cost) but go to a file.
    with log_path.open("a") as log_file:
        for handler in logging.getLogger("app").handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(log_file)
        async with AsyncExitStack() as stack:
            clients = []
            for app in apps:
                # The app's lifespan runs as under uvicorn (it opens the PostgreSQL loop pool).
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app)
                client = httpx.AsyncClient(transport=transport, base_url="http://bench")
                clients.append(await stack.enter_async_context(client))
            timings: list[list[Timing]] = [[] for _ in apps]
            every = [scenarios(dataset) for dataset in datasets]
            for index in range(1 if only_main else len(every[0])):
                probes = [
                    (client, *chosen[index]) for client, chosen in zip(clients, every, strict=True)
                ]
                for mine, timing in zip(
                    timings, await _time_together(probes, runs, warmup, budget), strict=True
                ):
                    mine.append(timing)
            total = int((await clients[0].get(every[0][0][1])).json()["total"])
            if not only_main:
                first = "/api/v1/events?limit=50"
                probes, depths = [], []
                for client in clients:
                    deep, number = await _walk(client, first, PAGE_DEPTH)
                    probes += [
                        (client, "page 1 (all events, 50)", first),
                        (client, f"page {PAGE_DEPTH} via cursor", deep),
                    ]
                    depths.append(number)
                pages = await _time_together(probes, runs, warmup, budget)
                for mine, number, first_page, deep_page in zip(
                    timings, depths, pages[::2], pages[1::2], strict=True
                ):
                    if number < PAGE_DEPTH:
                        deep_page.note = f"only {number} pages exist"
                    mine += [first_page, deep_page]
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
    timings, total = asyncio.run(_measure([dataset], runs, warmup, budget, log_path, only_main))
    return timings[0], total


def compare(
    datasets: list[Dataset], *, runs: int, warmup: int, budget: float, log_path: Path
) -> list[list[Timing]]:
    """`measure` for several datasets at once (PostgreSQL beside SQLite), each request of
    one followed by the same request of the others."""
    return asyncio.run(_measure(datasets, runs, warmup, budget, log_path, only_main=False))[0]
