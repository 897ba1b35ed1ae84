"""Cached reads answered before the route runs.

A cached read in the route costs its dependencies (runtime, application, actor), the parsing
and validation of every query parameter and a ``Response``: most of a hit's time
(perf/README.md). For a route marked ``cached_read`` (see :mod:`.caching`) this middleware,
which runs after routing, authenticates the caller as the route would and looks the request's
key up in the read cache (``ReadCache.find``: the near cache, else one round trip); on a hit it
sends the bytes with their ``ETag`` (or ``304`` when ``If-None-Match`` names it); on anything
else the route runs as usual, with what was found, so that
nothing is asked twice.

Nothing is served here that the route would not serve:

* the caller is authenticated by the same :func:`~.auth.request_actor` as the route (same
  token cache, same revocation), and a request without a valid token, or whose token the
  route's policy (:mod:`.policy`) does not admit, goes on to the route, which answers 401 or 403;
* an entry exists only for a path and query string the route validated and computed for the
  same tenant, at the tenant's current version; a request the route would refuse (422) never
  has one.
"""

from __future__ import annotations

from valorize_entrypoints.api.asgi import ASGIApp, Receive, Scope, Send, header, send_response
from valorize_entrypoints.api.auth import request_actor
from valorize_entrypoints.api.caching import CACHED_READ, FOUND, entity_tag, not_modified, read_scopes, request_key
from valorize_entrypoints.api.policy import permits

__all__ = ["CachedReadMiddleware"]


class CachedReadMiddleware:
    """ASGI middleware (after routing) in front of the routes marked ``cached_read``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        name = handler.opt.get(CACHED_READ) if handler is not None and scope.get("method") == "GET" else None
        runtime = scope["app"].state.runtime if name is not None else None
        if runtime is None or runtime.reads is None:
            await self.app(scope, receive, send)
            return
        actor = await request_actor(scope, runtime.app)  # the route does not authenticate again
        if actor is None or handler is None or name is None or not permits(handler, actor):  # the guard: 401/403
            await self.app(scope, receive, send)
            return
        path, query = scope["path"], scope["query_string"]
        found = await runtime.reads.find(
            actor.tenant_id, name, request_key(path, query), read_scopes(name, path, query)
        )
        if found.value is None:
            scope["state"][FOUND] = found  # the route computes it without looking it up again
            await self.app(scope, receive, send)
            return
        tag = found.tag or entity_tag(found.value)
        if not_modified(header(scope, b"if-none-match"), tag):
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", tag.encode())]})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send_response(send, 200, found.value, b"application/json", [(b"etag", tag.encode())])
