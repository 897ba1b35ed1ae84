"""The floors under `valorize api`'s cached read, for ``bench_servers.py``: the same response body
served by a bare ASGI function and by a one-route Litestar app, under the same server.

The body is read once, at import, from the file named by ``VALORIZE_FLOOR_BODY``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get

BODY = Path(os.environ["VALORIZE_FLOOR_BODY"]).read_bytes()
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Every HTTP request gets the body; nothing else is looked at."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": BODY})


@get("/api/transactions")
async def _page(limit: int = 50) -> Response[bytes]:
    return Response(content=BODY, media_type="application/json")


@get("/ready")
async def _ready() -> dict[str, str]:
    return {"status": "ready"}


litestar = Litestar([_page, _ready])
