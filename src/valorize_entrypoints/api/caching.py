"""Cached GET responses: the encoded JSON bytes, served again without decoding.

Two kinds of route use the read cache:

* a route marked ``opt=cached_read("name")`` answers with :func:`cached_response`: its response
  is a function of the tenant's data and the request's path and query string alone, so the
  cache key is that path and query string as sent. An entry exists only for a request the
  route once validated and computed, so :class:`~valorize_entrypoints.api.fast_reads.CachedReadMiddleware`
  may serve it before the route's parameters are parsed and checked again;
* any other route calls :func:`cached_json` with a key of its own making (e.g. one that
  depends on today's date).

Every cached read carries a strong ``ETag`` (a digest of the bytes sent), and a request whose
``If-None-Match`` names it gets ``304 Not Modified`` without the body: a client that revalidates
a page it holds downloads it again only when it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from valorize_core.runtime.caching import CachedRead
from valorize_entrypoints.api.auth import Actor
from valorize_entrypoints.container import Runtime

__all__ = [
    "CACHED_READ",
    "FOUND",
    "cached_json",
    "cached_read",
    "cached_response",
    "entity_tag",
    "not_modified",
    "request_key",
]

CACHED_READ = "cached_read"  # route option: the read's name in the cache
FOUND = "cached_read_found"  # request state: what the cached-read layer already found (a miss)


def cached_read(name: str) -> dict[str, Any]:
    """The route option marking a GET whose response is keyed by its path and query string."""
    return {CACHED_READ: name}


def entity_tag(body: bytes) -> str:
    """The strong entity tag of a cached read's bytes (equal bytes, equal tag, in every process).

    From the bytes, not from the tenant's version: a value computed while a write holds its
    tenant (docs/caching.md) may differ from one computed at the same version after it.
    """
    # SHA-256 (hardware-accelerated here) costs half of BLAKE2b per cached page: ~17 µs for 30 KB.
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (or is ``*``); weak comparison, as
    RFC 9110 §13.1.2 asks for this header."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


def request_key(path: str, query_string: bytes) -> str:
    """The cache key of a marked route's request: the routed path and the raw query string."""
    return f"{path}?{query_string.decode('latin-1')}"


async def cached_response(
    request: Request[Any, Any, Any], runtime: Runtime, actor: Actor, compute: Callable[[], Awaitable[Any]]
) -> Response[Any]:
    """The response of a marked route: from the cache, or computed, encoded and cached."""
    scope = request.scope
    key = request_key(scope["path"], scope["query_string"])
    found = scope.get("state", {}).get(FOUND)
    name = request.route_handler.opt[CACHED_READ]
    return await cached_json(runtime, actor, name, key, compute, found=found, request=request)


async def cached_json(
    runtime: Runtime,
    actor: Actor,
    name: str,
    key: str,
    compute: Callable[[], Awaitable[Any]],
    *,
    found: CachedRead | None = None,
    request: Request[Any, Any, Any] | None = None,
) -> Response[Any]:  # the body is the encoded DTO named by the route
    """The response of a read named ``name`` with ``key``: from the cache, or computed, encoded
    and cached, with its ``ETag``; ``304`` when ``request`` already holds those bytes.
    ``found``: what looking it up already found (a miss), not to be asked again."""

    async def encoded() -> bytes:
        return msgspec.json.encode(await compute())

    reads = runtime.reads
    if reads is None:
        body = await encoded()
    else:
        body = await reads.fill(found or await reads.find(actor.tenant_id, name, key), encoded)
    tag = entity_tag(body)
    if request is not None and not_modified(request.headers.get("if-none-match"), tag):
        return Response(content=b"", status_code=304, headers={"etag": tag})
    return Response(content=body, media_type="application/json", headers={"etag": tag})
