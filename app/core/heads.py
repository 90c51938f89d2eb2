"""Bounded request heads for uvicorn's httptools protocol: the request line, the headers'
size and their number are limited (414, 431), so one client cannot stall the others.

httptools has no such limit: it concatenates a header value as it arrives, so a 100 MB
header costs quadratic copying on the event loop (two of them stalled `/healthz` for 11 s).
Here the bytes of a head are counted as they arrive, before the parser sees them, and the
connection is answered and closed as soon as a limit is passed.
"""

from functools import cache
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import Settings
from app.core.errors import PROBLEM_BASE, PROBLEM_JSON


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing; carries the status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@cache
def head_limits() -> tuple[int, int, int]:
    """(request line bytes, header bytes, header fields), from the settings, once a process."""
    settings = Settings()
    return settings.max_request_line_bytes, settings.max_header_bytes, settings.max_header_fields


_TITLES = {414: "URI too long", 431: "Request header fields too large"}


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded request heads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_line, self.max_headers, self.max_fields = head_limits()
        self.in_head = True  # until the headers are complete; again after the message
        self.head_bytes = 0
        self.line_bytes = 0
        self.header_bytes = 0
        self.fields = 0
        self.refusal: HeadTooLarge | None = None
        self.stopped_by: HeadTooLarge | None = None

    def data_received(self, data: bytes) -> None:
        if not self.in_head:
            super().data_received(data)
            return
        room = self.max_line + self.max_headers + 4 - self.head_bytes  # CRLF CRLF
        if len(data) <= room:
            self.head_bytes += len(data)
            super().data_received(data)
            return
        # The limit falls in this chunk: parse up to it; if the head has not ended, refuse.
        self.head_bytes += room
        super().data_received(data[:room])
        if self.refusal is not None or self.transport.is_closing():
            return
        if self.in_head:  # (a request line that long was refused by `on_url` already)
            limit = f"request headers are limited to {self.max_headers} bytes in all"
            self._refuse(HeadTooLarge(431, limit))
            return
        self.data_received(data[room:])

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.line_bytes = self.header_bytes = self.fields = 0

    def on_url(self, url: bytes) -> None:
        self.line_bytes += len(url)
        if self.line_bytes > self.max_line:
            raise self._stop(414, f"the request line is limited to {self.max_line} bytes")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields += 1
        self.header_bytes += len(name) + len(value) + 4
        if self.fields > self.max_fields:
            raise self._stop(431, f"requests are limited to {self.max_fields} header fields")
        if self.header_bytes > self.max_headers:
            raise self._stop(431, f"request headers are limited to {self.max_headers} bytes in all")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.in_head = True
        self.head_bytes = 0
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error: ours when a limit stopped the parser."""
        if self.stopped_by is None:
            super().send_400_response(msg)
        else:
            self._refuse(self.stopped_by)

    def _stop(self, status: int, detail: str) -> HeadTooLarge:
        self.stopped_by = HeadTooLarge(status, detail)
        return self.stopped_by

    def _refuse(self, refusal: HeadTooLarge) -> None:
        self.refusal = refusal
        body = orjson.dumps(
            {
                "type": PROBLEM_BASE + "head-too-large",
                "title": _TITLES[refusal.status],
                "status": refusal.status,
                "detail": refusal.detail,
            }
        )
        head = (
            f"HTTP/1.1 {refusal.status} {_TITLES[refusal.status]}\r\n"
            f"content-type: {PROBLEM_JSON}\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
