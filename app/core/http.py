"""HTTP caching: strong ETags, conditional GETs and Cache-Control for reads."""

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import unreachable
from app.core.errors import ProblemError
from app.core.versioning import read_data_version

CACHE_CONTROL = "public, max-age=30"


class NotModifiedError(Exception):
    """Raised to answer 304 before any further work."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def not_modified_response(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})


def matches(request: Request, etag: str) -> bool:
    """True when If-None-Match names this ETag (or `*`); weak comparison, as RFC 9110 says."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def make_etag(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


async def data_etag(request: Request, response: Response) -> str:
    """The ETag of a response computed from the filters: the data version and the full URL.

    Decided before any other query, so a matching If-None-Match costs nothing more. The
    version is the one the response cache read for this request; only when that read
    failed is it read here, in the thread pool (and fails there with a clear 503).
    """
    version: int | None = getattr(request.state, "data_version", None)
    if version is None:
        unreachable(request)
        version = await run_in_threadpool(_read_version, request.app.state.engine)
    etag = data_etag_of(request, version)
    if matches(request, etag):
        raise NotModifiedError(etag)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    return etag


def data_etag_of(request: Request, version: int) -> str:
    """The ETag of a filtered read at this data version."""
    return make_etag(version, request.url.path, sorted(request.query_params.multi_items()))


def _read_version(engine: Engine) -> int:
    with Session(engine) as session:
        return read_data_version(session)


DataETag = Annotated[str, Depends(data_etag)]


def json_response(content: Any, headers_from: Response | None = None) -> Response:
    """JSON bytes straight from orjson, keeping headers set on the injected response."""
    response = Response(orjson.dumps(content), media_type="application/json")
    if headers_from is not None:
        response.headers.update(headers_from.headers)
        response.headers["content-length"] = str(len(response.body))
    return response


def _body(resource: BaseModel | dict[str, Any]) -> bytes:
    if isinstance(resource, BaseModel):
        return orjson.dumps(resource.model_dump(mode="json"))
    return orjson.dumps(resource)


def etag_of(resource: BaseModel | dict[str, Any]) -> str:
    """The ETag of one resource: derived from exactly what it shows."""
    return make_etag(hashlib.sha256(_body(resource)).hexdigest())


def resource_response(
    request: Request,
    resource: BaseModel | dict[str, Any],
    *,
    status: int = 200,
    location: str | None = None,
) -> Response:
    """One resource as JSON with its ETag; 304 when the client has it already."""
    body = _body(resource)
    etag = make_etag(hashlib.sha256(body).hexdigest())
    if status == 200 and matches(request, etag):
        return not_modified_response(etag)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if location:
        headers["Location"] = location
    return Response(body, status_code=status, media_type="application/json", headers=headers)


class PreconditionFailedError(ProblemError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


def check_if_match(request: Request, current: BaseModel | dict[str, Any]) -> None:
    """Honour an optional If-Match: 412 when the client edited an older version."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = {tag.strip() for tag in header.split(",")}
    if "*" in tags or etag_of(current) in tags:
        return
    raise PreconditionFailedError(
        "the resource changed since you read it (its ETag differs from If-Match); "
        "fetch it again, reapply your change and retry",
        current_etag=etag_of(current),
    )


def install_cache_handlers(app: FastAPI) -> None:
    """Answer NotModifiedError, raised by the ETag dependency, with a bare 304."""

    @app.exception_handler(NotModifiedError)
    async def _not_modified(_: Request, exc: NotModifiedError) -> Response:
        return not_modified_response(exc.etag)


class HeadAsGetMiddleware:
    """Answer HEAD like GET without the body (FastAPI routes declare GET only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
