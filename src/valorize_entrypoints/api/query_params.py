"""Query parameters a route does not declare are refused, on every route.

Litestar hands a route the query parameters it declares and drops the rest, so
``GET /api/transactions?tagg=x`` (a typo) or a filter the route does not have answered as if
nothing had been asked: every transaction. :func:`refuse_unknown_query`, the app's second check
(after :func:`~valorize_entrypoints.api.policy.enforce_access`, so 401/403 come first), answers
422 ``validation_error`` naming each unknown parameter instead. The names a route takes are read
once per handler from Litestar's own model of its signature and dependencies.

Routes whose query string belongs to another protocol — the Pusher HTTP API signs its own
``auth_key``, ``auth_signature``, … — are listed by their access (``Access.PUSHER``) and keep
reading it themselves.
"""

from __future__ import annotations

import weakref
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.types.internal_types import PathParameterDefinition

from valorize_entrypoints.api.policy import ACCESS, Access

__all__ = ["OPEN_QUERY", "declared_query", "refuse_unknown_query"]

OPEN_QUERY = frozenset({Access.PUSHER})
"""Accesses whose routes read a protocol's own query string (signed), not declared parameters."""

_DECLARED: weakref.WeakKeyDictionary[BaseRouteHandler, frozenset[str] | None] = weakref.WeakKeyDictionary()


def declared_query(handler: BaseRouteHandler, path_params: frozenset[str]) -> frozenset[str] | None:
    """The query parameter names ``handler`` takes (its own and its dependencies'), or ``None``
    for a route that is not checked (not an HTTP route, or one reading a protocol's query)."""
    try:
        return _DECLARED[handler]
    except KeyError:
        pass
    names: frozenset[str] | None = None
    if isinstance(handler, HTTPRouteHandler) and handler.opt.get(ACCESS) not in OPEN_QUERY:
        path = {name: _path_definition(name) for name in path_params}
        model = handler.create_kwargs_model(path_parameters=path)
        names = frozenset(p.field_alias for p in model.expected_query_params)
    _DECLARED[handler] = names
    return names


def _path_definition(name: str) -> PathParameterDefinition:
    # Only the names matter here: a path parameter is not a query parameter.
    return PathParameterDefinition(name=name, full=name, type=str, parser=None)


async def refuse_unknown_query(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app's query check (``api/route_checks.py``): 422 when the query string names a
    parameter the route does not take."""
    if not connection.scope.get("query_string"):
        return
    # Litestar hands each guard a copy of the handler, made for this request: the route's own
    # handler (in the scope) is what the names are kept by, or they were worked out every time.
    route_handler = connection.scope.get("route_handler", handler)
    declared = declared_query(route_handler, frozenset(connection.scope.get("path_params", {})))
    if declared is None:
        return
    unknown = sorted({name for name in connection.query_params if name not in declared})
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:5])
        raise ValidationException(
            f"unknown query parameter(s): {shown}; this route takes: {', '.join(sorted(declared)) or 'none'}",
            extra=[{"key": f"query.{name[:40]}", "message": "unknown query parameter"} for name in unknown[:20]],
        )
