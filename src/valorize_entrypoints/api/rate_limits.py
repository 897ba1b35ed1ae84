"""Rate limits on the API: per token, and per client address for failed authentication.

* a request whose bearer token authenticates spends one unit of its token's limit
  (``VALORIZE_RATE_LIMIT_PER_TOKEN``);
* a request whose bearer token does not authenticate (unknown, revoked, malformed) spends one
  unit of its client address's failed-authentication limit (``VALORIZE_RATE_LIMIT_FAILED_AUTH``)
  — a valid token from the same address is not affected; requests without credentials spend
  nothing (the route answers 401, or is public);

over a limit the answer is 429 problem+json with ``Retry-After`` and the IETF draft's
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds) headers. The
middleware runs after the JSON body checks and before the cached-read and idempotency
middlewares (app.py), so cached reads are limited too, at the cost of one counter increment
(:mod:`valorize_entrypoints.rate_limits`). Routes with their own authentication — the policy
table marks them ``WORKER`` (the worker's ``/tasks``) or ``PUSHER`` (the Pusher HTTP API) — are
not limited here.
"""

from __future__ import annotations

import json
import time

from valorize_entrypoints.api.asgi import ASGIApp, Receive, Scope, Send, send_response
from valorize_entrypoints.api.auth import request_actor
from valorize_entrypoints.api.policy import ACCESS, Access
from valorize_entrypoints.rate_limits import RateLimits, Refusal

__all__ = ["RateLimitMiddleware"]

# Routes that authenticate callers their own way (OIDC or a shared secret; Pusher signatures).
_OWN_AUTHENTICATION = frozenset({Access.WORKER, Access.PUSHER})


def _problem(refusal: Refusal, what: str) -> bytes:
    problem = {
        "status": 429, "title": "Too many requests", "code": "rate_limited",
        "detail": f"{what}: at most {refusal.limit} requests per window; retry after the Retry-After seconds",
        "type": "https://valorize.dev/problems/rate_limited",
    }  # fmt: skip
    return json.dumps(problem).encode()


class RateLimitMiddleware:
    """ASGI middleware (after routing) applying :class:`RateLimits` from the runtime."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits: RateLimits | None = getattr(scope["app"].state.get("runtime"), "rate_limits", None)
        handler = scope.get("route_handler")
        access = handler.opt.get(ACCESS) if handler is not None else None
        if scope["type"] != "http" or limits is None or access in _OWN_AUTHENTICATION:
            await self.app(scope, receive, send)
            return
        actor = await request_actor(scope, scope["app"].state.runtime.app)
        if actor is not None:
            refusal = await limits.spend(limits.per_token, "token", str(actor.token_id))
            what = "this token's rate limit"
        elif any(name == b"authorization" for name, _ in scope["headers"]):
            client = scope.get("client")
            refusal = await limits.spend(limits.failed_auth, "failed-auth", client[0] if client else "unknown")
            what = "too many failed authentications from this address"
        else:
            refusal = None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        body = _problem(refusal, what)
        await send_response(send, 429, body, b"application/problem+json", refusal.headers(time.time()))
