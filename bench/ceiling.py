"""The ceiling: a bare ASGI callable answering every request with the same precomputed bytes.

Served by the same uvicorn as the app, it shows what the stack itself costs on this machine.
`BENCH_CEILING_BODY` names the file holding the body (the main query's response, fetched once
from the real server).
"""

import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ.get("BENCH_CEILING_BODY", os.devnull)).read_bytes()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer lifespan events, then every HTTP request with BODY."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
