"""Cached GET responses: the encoded JSON bytes, served again without decoding."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Response

from valorize_entrypoints.api.auth import Actor
from valorize_entrypoints.container import Runtime

__all__ = ["cached_json"]


async def cached_json(
    runtime: Runtime, actor: Actor, name: str, params: dict[str, Any], compute: Callable[[], Awaitable[Any]]
) -> Response[Any]:  # the body is the encoded DTO named by the route
    """The response of a read: from the cache, or computed, encoded and cached."""

    async def encoded() -> bytes:
        return msgspec.json.encode(await compute())

    if runtime.reads is None:
        body = await encoded()
    else:
        key = msgspec.json.encode(sorted((k, str(v)) for k, v in params.items())).decode()
        body = await runtime.reads.get_or_compute(actor.tenant_id, name, key, encoded)
    return Response(content=body, media_type="application/json")
