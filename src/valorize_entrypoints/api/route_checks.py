"""What every route runs before it parses anything: its access (:func:`enforce_access`: 401/403)
and then its query string (:func:`refuse_unknown_query`: 422).

Both run as the app's ``before_request`` hook rather than as Litestar guards: Litestar hands each
guard a shallow copy of the route handler, made on every request (~50–100 µs each on this
machine, a fifth of a cached list miss's CPU with two guards; perf/README.md). The hook runs at
the same point — after the middlewares, before the route's parameters are parsed — for HTTP
routes, which are all the API has: :func:`require_http_routes` refuses an app with a route the
hook would not run for.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.routes import HTTPRoute

from valorize_entrypoints.api.policy import enforce_access
from valorize_entrypoints.api.query_params import refuse_unknown_query

__all__ = ["ANSWER", "check_route", "require_http_routes"]

ANSWER = "answer"
"""A route handler's ``opt`` key: ``async (request) -> Response | None``, the route's answer made
here, after the checks, without Litestar's parsing of the route's parameters and dependencies;
``None`` lets Litestar parse them and run the route as usual (e.g. to refuse a bad parameter
with its own error). For a hot route whose parameters one conversion reads (the list,
``controllers/transactions.py``)."""


async def check_route(request: Request[Any, Any, Any]) -> Any:
    """The app's ``before_request`` hook: access first, so 401/403 come before 422; then the
    route's ``ANSWER``, if it has one (Litestar answers with what a ``before_request`` hook
    returns, unless ``None``, and then runs the route)."""
    handler = request.scope["route_handler"]
    await enforce_access(request, handler)
    await refuse_unknown_query(request, handler)
    answer = handler.opt.get(ANSWER)
    return None if answer is None else await answer(request)


def require_http_routes(app: Litestar) -> None:
    """Refuse an app with a route :func:`check_route` would not run for — a websocket or a
    mounted ASGI app, a handler whose own ``before_request`` replaces the app's (Litestar runs
    the nearest layer's only), or a handler with Litestar's response cache (``cache=``: a hit is
    answered before ``before_request`` runs): it would be open to anyone."""
    unchecked = sorted(
        route.path
        for route in app.routes
        if not isinstance(route, HTTPRoute)
        or any(handler.resolve_before_request() is not check_route or handler.cache for handler in route.route_handlers)
    )
    if unchecked:
        raise ValueError(f"routes check_route would not run for: {', '.join(unchecked)}")
