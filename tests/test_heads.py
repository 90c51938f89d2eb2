"""Bounded request heads (issue 16, defect 5): uvicorn's httptools protocol as
`python -m app serve` runs it, fed bytes directly. A request line over 8 KiB is a 414, headers
over 32 KiB or 100 fields a 431, each a problem document on a closed connection, and a
head within the limits is served whatever the chunking. The live proof under load is
`tests/test_heads_live.py` (slow)."""

import asyncio
from typing import Any

import orjson
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.core.heads import BoundedHttpToolsProtocol, head_limits


class Transport(asyncio.Transport):
    """Enough of a socket for the protocol: it records what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


def serve(chunks: list[bytes]) -> tuple[bytes, bool, int]:
    """Feed the chunks to a connection; what it answered, whether it closed, and how many
    bytes it read before it did."""

    async def run() -> tuple[bytes, bool, int]:
        config = Config(app=hello, lifespan="off", log_level="critical")
        config.load()
        protocol = BoundedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={})
        transport = Transport()
        protocol.connection_made(transport)
        read = 0
        for chunk in chunks:
            if transport.closed:
                break
            read += len(chunk)
            protocol.data_received(chunk)
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return transport.written, transport.closed, read

    return asyncio.run(run())


def status_and_problem(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), head
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


def test_limits_are_those_of_the_settings() -> None:
    assert head_limits() == (8192, 32_768, 100)


def test_a_long_request_line_is_414() -> None:
    answer, closed, _ = serve([b"GET /api/v1/events?q=" + b"a" * 9000 + b" HTTP/1.1\r\n"])
    status, problem = status_and_problem(answer)
    assert (status, problem["status"], closed) == (414, 414, True)


def test_a_long_request_line_sent_a_byte_at_a_time_is_414() -> None:
    line = b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\n"
    answer, closed, read = serve([line[i : i + 1] for i in range(len(line))])
    assert status_and_problem(answer)[0] == 414
    assert closed
    assert read < 8300


@pytest.mark.parametrize("chunk", [1 << 10, 1 << 16, 1 << 20])
def test_a_huge_header_is_431_before_much_is_read(chunk: int) -> None:
    """Regression: a 50 MB header was read and answered; here reading stops at ~40 KiB."""
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
    chunks = [start] + [b"b" * chunk] * (100 * (1 << 20) // chunk)
    answer, closed, read = serve(chunks)
    status, problem = status_and_problem(answer)
    assert (status, closed) == (431, True)
    assert "32768 bytes" in problem["detail"]
    assert read <= 40 * 1024 + chunk + len(start)


def test_a_huge_first_header_is_431_not_414() -> None:
    """The request line was short: the headers are what is too large."""
    answer, closed, _ = serve([b"GET /api/v1/events HTTP/1.1\r\nX-Big: " + b"b" * 100_000])
    assert (status_and_problem(answer)[0], closed) == (431, True)


def test_many_small_headers_are_431() -> None:
    fields = b"".join(b"X-%d: 1\r\n" % i for i in range(101))
    answer, closed, _ = serve([b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"])
    status, problem = status_and_problem(answer)
    assert (status, closed) == (431, True)
    assert "100 header fields" in problem["detail"]


def test_headers_over_32_kib_in_all_are_431() -> None:
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 500) for i in range(70))  # ~35 KB
    answer, _, _ = serve([b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"])
    assert status_and_problem(answer)[0] == 431


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_heads_within_the_limits_are_served_however_they_arrive(size: int) -> None:
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 200) for i in range(99))  # ~21 KB
    request = b"GET /" + b"p" * 8000 + b" HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"
    # Two requests on one connection, and a body of 100 KB after a third head: none of
    # it counts towards the next head's limit.
    post = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000
    stream = request + request + post
    answer, _, _ = serve([stream[i : i + size] for i in range(0, len(stream), size)])
    assert answer.count(b"HTTP/1.1 200 OK") == 3, answer[:300]
