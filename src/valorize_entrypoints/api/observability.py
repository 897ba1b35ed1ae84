"""Request ids and one JSON log line per request."""

from __future__ import annotations

import logging
import time
import uuid

from valorize_core.correlation import correlated
from valorize_entrypoints.api.asgi import ASGIApp, Message, Receive, Scope, Send
from valorize_entrypoints.logs import SAFE_REQUEST_ID, configure_logging

__all__ = ["RequestLogMiddleware", "configure_logging"]

log = logging.getLogger("valorize.access")


class RequestLogMiddleware:
    """Accepts or makes an ``X-Request-ID``, returns it, and logs the request when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            with correlated(request_id):  # events recorded by this request carry its id
                await self.app(scope, receive, send_with_id)
        finally:
            actor = scope.get("state", {}).get("actor")
            log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "route": scope.get("path_template", ""),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "tenant_id": str(actor.tenant_id) if actor else None,
                    }
                },
            )
