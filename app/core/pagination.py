"""Keyset pagination: signed, opaque cursors bound to the query that made them."""

import base64
import binascii
import hashlib
import hmac
import math
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, literal, or_, tuple_
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response

from app.core.errors import InvalidCursorError
from app.core.keys import cursor_secret

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    total: int = Field(description="How many items match the filters, over all pages.")
    limit: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; bound to this query."
    )


def query_fingerprint(params: Iterable[tuple[str, str]]) -> str:
    """A digest of the query, cursor excepted, in a canonical order."""
    canonical = sorted((k, v) for k, v in params if k != "cursor")
    return hashlib.sha256(orjson.dumps(canonical)).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(values: Sequence[Any], fingerprint: str, secret: str) -> str:
    """An opaque cursor holding the last row's sort key, signed so it cannot be altered."""
    payload = orjson.dumps({"k": list(values), "f": fingerprint})
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


def decode_cursor(cursor: str, fingerprint: str, secret: str) -> list[Any]:
    """The sort key a cursor holds; 422 when it was altered or belongs to another query.

    Even a correctly signed cursor is checked for its shape: a key is a list of at most
    `MAX_KEY_VALUES` strings, 64-bit integers or finite numbers, nothing else."""
    try:
        payload_text, signature_text = cursor.split(".", 1)
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, binascii.Error):
        raise InvalidCursorError("the cursor is malformed; start again without it") from None
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise InvalidCursorError("the cursor was altered or is not one of ours")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or set(data) != {"k", "f"}:
        raise InvalidCursorError("the cursor is malformed; start again without it")
    if data["f"] != fingerprint:
        raise InvalidCursorError(
            "the cursor belongs to another query: reuse it only with the same filters, "
            "sort and limit"
        )
    values = data["k"]
    if not (
        isinstance(values, list)
        and 0 < len(values) <= MAX_KEY_VALUES
        and all(_key_value(value) for value in values)
    ):
        raise InvalidCursorError("the cursor is malformed; start again without it")
    return values


MAX_KEY_VALUES = 4
_INT64 = 2**63


def _key_value(value: Any) -> bool:
    """Whether one value of a sort key is something a keyset bound can hold."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_INT64 <= value < _INT64
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= 1000 and "\x00" not in value


def after(keys: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]) -> Any:
    """Rows strictly after `values` in the order given by (expression, ascending) keys."""
    if len({ascending for _, ascending in keys}) == 1:
        # One direction: a row-value comparison, which both databases seek on an index.
        row, bound = tuple_(*(expr for expr, _ in keys)), tuple_(*(literal(v) for v in values))
        return row > bound if keys[0][1] else row < bound
    clauses = []
    for i, (expr, ascending) in enumerate(keys):
        equal = [keys[j][0] == values[j] for j in range(i)]
        step = expr > values[i] if ascending else expr < values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def next_link(url: URL, cursor: str) -> str:
    """The RFC 8288 Link header value pointing at the next page."""
    return f'<{url.include_query_params(cursor=cursor)}>; rel="next"'


class Pager:
    """Cursor handling for one list request: decode the incoming cursor, make the next one."""

    def __init__(self, request: Request, secret: str, cursor: str | None, limit: int) -> None:
        self.request = request
        # No configured secret: the one kept in the database, which every replica shares.
        self.secret = secret or cursor_secret(request.app)
        self.limit = limit
        self.fingerprint = query_fingerprint(request.query_params.multi_items())
        self.after: list[Any] | None = (
            decode_cursor(cursor, self.fingerprint, self.secret) if cursor else None
        )

    def page(
        self, response: Response, items: list[T], total: int, last_key: Sequence[Any] | None
    ) -> Page[T]:
        """The page to return; `last_key` is the sort key of the last item when more follow."""
        body = self.body(response, items, total, last_key)
        return Page[T](**body)

    def page_by_id(self, response: Response, fetched: list[Any], total: int) -> Page[Any]:
        """A page of items fetched in id order with one extra, which says that more follow."""
        items = fetched[: self.limit]
        last_key = [items[-1].id] if len(fetched) > self.limit else None
        return self.page(response, items, total, last_key)

    def body(
        self, response: Response, items: list[Any], total: int, last_key: Sequence[Any] | None
    ) -> dict[str, Any]:
        """The page as a plain dictionary (for items already in their JSON shape)."""
        next_cursor = None
        if last_key is not None:
            next_cursor = encode_cursor(last_key, self.fingerprint, self.secret)
            response.headers["Link"] = next_link(self.request.url, next_cursor)
        return {"items": items, "total": total, "limit": self.limit, "next_cursor": next_cursor}
