"""``OPTIONS``: the methods a path allows, all of them.

Litestar (2.25) makes a path's automatic ``OPTIONS`` handler when the first handler of that path
is registered and a controller registers its handlers one by one, so the handler kept the first
one's methods: ``OPTIONS /api/accounts`` answered ``Allow: OPTIONS, POST`` although ``GET`` is
served too (schemathesis' ``allow_header_conformance``). The 405s were right: their ``Allow``
comes from the whole route. This middleware answers ``OPTIONS`` from the whole route as well.
"""

from __future__ import annotations

from typing import Any

from litestar.routes import HTTPRoute

from valorize_entrypoints.api.asgi import ASGIApp, Receive, Scope, Send

__all__ = ["AllowedMethodsMiddleware"]


def allowed_methods(app: Any) -> dict[str, bytes]:
    """Each HTTP route's path template (as routing puts it in the scope) → its ``Allow`` value."""
    return {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


class AllowedMethodsMiddleware:
    """ASGI middleware (after routing) answering ``OPTIONS`` with the route's every method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._allow: dict[str, bytes] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        if self._allow is None:
            self._allow = allowed_methods(scope["app"])
        allow = self._allow.get(scope.get("path_template", ""))
        if allow is None:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
