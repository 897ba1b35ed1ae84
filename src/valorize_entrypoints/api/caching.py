"""Cached GET responses: the encoded JSON bytes, served again without decoding.

Two kinds of route use the read cache:

* a route marked ``opt=cached_read("name")`` answers with :func:`cached_response`: its response
  is a function of the tenant's data and the request's path and query string alone, so the
  cache key is that path and query string as sent. An entry exists only for a request the
  route once validated and computed, so :class:`~valorize_entrypoints.api.fast_reads.CachedReadMiddleware`
  may serve it before the route's parameters are parsed and checked again;
* any other route calls :func:`cached_json` with a key of its own making (e.g. one that
  depends on today's date).

Each read names the read scopes its answer depends on (:func:`read_scopes`), so a write
retires only the reads that depend on what it changed (docs/caching.md).

Every cached read carries a strong ``ETag`` (from its key and the versions it was computed at,
:func:`valorize_core.runtime.caching.entity_tag`; a digest of the bytes when the cache is
unusable), and a request whose ``If-None-Match`` names it gets ``304 Not Modified`` without the
body: a client that revalidates a page it holds downloads it again only when it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, cast
from urllib.parse import parse_qs
from uuid import UUID

import msgspec
from litestar import Request, Response

from valorize_core.model.read_scopes import (
    ACCOUNTS,
    BUDGETS,
    CATEGORIES,
    CONVERSION,
    LEDGER,
    MAX_MONTH_SCOPES,
    account_scope,
    category_scope,
    months_between,
)
from valorize_core.runtime.caching import CachedRead
from valorize_entrypoints.api.asgi import Scope, header
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
    "read_scopes",
    "request_key",
]

CACHED_READ = "cached_read"  # route option: the read's name in the cache
FOUND = "cached_read_found"  # request state: what the cached-read layer already found (a miss)


def cached_read(name: str) -> dict[str, Any]:
    """The route option marking a GET whose response is keyed by its path and query string."""
    return {CACHED_READ: name}


def entity_tag(body: bytes) -> str:
    """The strong entity tag of bytes the cache could not name (it was unusable): a digest.
    Equal bytes, equal tag, in every process."""
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


BUDGET_STATUS_SCOPES = (LEDGER, BUDGETS, CATEGORIES, CONVERSION)
# What every report reads besides its transactions: the tree (names, kinds) and the conversion.
REPORT_SCOPES = (CATEGORIES, CONVERSION)
# Reports made of the transactions booked in their range alone (net worth adds up every
# transaction before its end; a kind not named here depends on the whole ledger).
RANGE_REPORTS = frozenset({"spend_by_category", "spend_by_tag", "income_vs_expense", "cash_flow"})


def read_scopes(name: str, path: str, query_string: bytes) -> tuple[str, ...]:
    """The read scopes a marked route's answer depends on, from its name, path and raw query
    string (before the route validates them: whatever cannot be read here depends on the
    whole ledger, which every transaction write retires; a request the route refuses is
    never cached anyway).

    * ``accounts``: the balances;
    * ``transactions``: the account filtered on, the category (with its subcategories) and
      uncategorized splits filtered on — any one of them covers every row the list can show
      — else the ledger;
    * ``report``: for the kinds in :data:`RANGE_REPORTS`, the months of its range (at most
      :data:`MAX_MONTH_SCOPES`), else the ledger (net worth adds up every transaction up to
      its end, and the accounts' opening balances); and every report the category tree and
      the conversion (:data:`REPORT_SCOPES`).
    """
    if name == "accounts":
        return (ACCOUNTS,)
    query = parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
    if name == "transactions":
        scopes: list[str] = []
        account = _one_id(query, "account_id")
        category = _one_id(query, "category_id")
        if account is not None:
            scopes.append(account_scope(account))
        if category is not None:
            scopes.append(category_scope(category))
        if query.get("uncategorized", [""])[-1].lower() in ("true", "1"):
            scopes.append(category_scope(None))
        return tuple(scopes) or (LEDGER,)
    if name == "report":
        if path.rstrip("/").rpartition("/")[2] in RANGE_REPORTS:
            start, end = _one_date(query, "start"), _one_date(query, "end")
            if start is not None and end is not None:
                months = months_between(start, end)
                if 0 < len(months) <= MAX_MONTH_SCOPES:
                    return (*months, *REPORT_SCOPES)
        return (LEDGER, ACCOUNTS, *REPORT_SCOPES)
    return (LEDGER,)


def _one_id(query: dict[str, list[str]], name: str) -> UUID | None:
    values = query.get(name, [])
    try:
        return UUID(values[0]) if len(values) == 1 else None
    except ValueError:
        return None


def _one_date(query: dict[str, list[str]], name: str) -> date | None:
    values = query.get(name, [])
    try:
        return date.fromisoformat(values[0]) if len(values) == 1 else None
    except ValueError:
        return None


def request_key(path: str, query_string: bytes) -> str:
    """The cache key of a marked route's request: the routed path and the raw query string."""
    return f"{path}?{query_string.decode('latin-1')}"


async def cached_response(
    request: Request[Any, Any, Any], runtime: Runtime, actor: Actor, compute: Callable[[], Awaitable[Any]]
) -> Response[Any]:
    """The response of a marked route: from the cache, or computed, encoded and cached. Its read
    scopes are worked out only when the read is still to be looked up: a miss the cached-read
    layer already looked up (``FOUND``) does not look again, and without a cache nothing does."""
    scope = request.scope
    path, query = scope["path"], scope["query_string"]
    found = scope.get("state", {}).get(FOUND)
    name = request.route_handler.opt[CACHED_READ]
    scopes = read_scopes(name, path, query) if found is None and runtime.reads is not None else ()
    return await cached_json(
        runtime, actor, name, request_key(path, query), compute, scopes=scopes, found=found, request=request
    )


async def cached_json(
    runtime: Runtime,
    actor: Actor,
    name: str,
    key: str,
    compute: Callable[[], Awaitable[Any]],
    *,
    scopes: Sequence[str],
    found: CachedRead | None = None,
    request: Request[Any, Any, Any] | None = None,
) -> Response[Any]:  # the body is the encoded DTO named by the route
    """The response of a read named ``name`` with ``key``, depending on the read ``scopes``:
    from the cache, or computed, encoded and cached, with its ``ETag``; ``304`` when
    ``request`` already holds those bytes. ``found``: what looking it up already found (a
    miss), not to be asked again."""

    async def encoded() -> bytes:
        return msgspec.json.encode(await compute())

    reads = runtime.reads
    tag: str | None = None
    if reads is None:
        body = await encoded()
    else:
        read = found or await reads.find(actor.tenant_id, name, key, scopes)
        body, tag = await reads.fill_tagged(read, encoded)
    tag = tag or entity_tag(body)
    # The header read from the scope: ``request.headers`` would build Litestar's header map first.
    if request is not None and not_modified(header(cast("Scope", request.scope), b"if-none-match"), tag):
        return Response(content=b"", status_code=304, headers={"etag": tag})
    return Response(content=body, media_type="application/json", headers={"etag": tag})
