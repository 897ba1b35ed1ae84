"""Plain ASGI types for the middlewares written by hand, and how they answer a request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (the first, if repeated), or ``None``; ``name`` in lower case,
    as ASGI servers give header names."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_response(
    send: Send, status: int, body: bytes, media_type: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A whole response at once: status, content type and length (and ``headers``), then the body."""
    start = [(b"content-type", media_type), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def replaying(body: bytes, original: Receive) -> Receive:
    """A ``receive`` that gives the already-read ``body`` once, then the client's own channel
    (for disconnects): how a middleware that read the body hands the request on."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` when it passes ``limit`` bytes or the client went away.
    Linear in the body: chunks are joined once, and reading stops at the limit."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
