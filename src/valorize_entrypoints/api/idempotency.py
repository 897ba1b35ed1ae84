"""``Idempotency-Key`` on every POST, with Stripe's semantics.

* same key, same request → the first response again (``Idempotent-Replayed: true``);
* same key, different request (method, path, query, body or calling token) → 422;
* same key while the first is still running → 409;
* keys live 24 hours; a claim abandoned by a crash can be retaken after a minute;
* a key whose write committed is never run again (409 ``already_applied`` when its answer was
  lost): the write's own commit marks it applied (:func:`applying_key`);
* claims are owned: a request that outlived its lock, its key retaken by a retry, has its write
  refused (409 ``idempotency_key_retaken``, rolled back) and settles nothing of the retry's claim.

A request ends by settling its claim (kept or released). When the store cannot be reached then
(the database went down under the request), settling is retried in the background until the
store answers, for as long as the claim's lock lasts: a client retrying the request after the
outage gets it run (or replayed) as soon as the database is back, not a minute of 409s.

Results of requests that executed (2xx, 403, 404, 409) are kept; a request refused before it
ran (400, 401, 422) or that failed on our side (5xx) releases its key so it can be retried —
unless its write was applied (the connection lost after the server committed, or anything failing
after the commit): then the key keeps a 409 ``already_applied`` as its answer.
An answer that holds a secret (a new token's, on routes marked :data:`HOLDS_SECRET`) is never
kept: secrets are stored only as hashes. Its key still holds — no second token — and a replay
is a 409 saying so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from valorize_core.ports.idempotency import Applied, InProgress, Mismatch, Replay, applying_key
from valorize_entrypoints.api.asgi import ASGIApp, Message, Receive, Scope, Send, read_body, replaying, send_response
from valorize_entrypoints.api.auth import request_actor

__all__ = ["HOLDS_SECRET", "IdempotencyMiddleware", "request_digest"]

log = logging.getLogger("valorize.idempotency")

TTL = timedelta(hours=24)
LOCK = timedelta(seconds=60)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_KEEP = {403, 404, 409}
_DEFAULT_MAX_BODY = 10_000_000
HOLDS_SECRET = "holds_secret"  # the key of a route handler's ``opt``: its 2xx answer holds a secret
_SECRET_NOT_KEPT = json.dumps({
    "status": 409, "title": "Already done", "code": "secret_not_kept",
    "type": "https://valorize.dev/problems/secret_not_kept",
    "detail": "a request with this key succeeded; its answer held a secret, which is kept nowhere to be replayed."
              " If it was lost, list the tokens, revoke that one and make another",
}).encode()  # fmt: skip
_ALREADY_APPLIED = json.dumps({
    "status": 409, "title": "Already applied", "code": "already_applied",
    "type": "https://valorize.dev/problems/already_applied",
    "detail": "a request with this key was applied; its answer was lost. Read the resource to see the result",
}).encode()  # fmt: skip
# What a retry gets once a request whose write was applied failed before storing its answer.
_LOST_ANSWER = Replay(409, _ALREADY_APPLIED)
# Signup has no tenant yet: its keys live in a namespace of their own.
SIGNUP_NAMESPACE = UUID(int=0)


def _problem(status: int, title: str, detail: str, code: str = "idempotency_error") -> bytes:
    problem = {"type": f"https://valorize.dev/problems/{code}", "status": status, "title": title, "detail": detail,
               "code": code}  # fmt: skip
    return json.dumps(problem).encode()


async def _respond(
    send: Send, status: int, body: bytes, replayed: bool = False, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    media = b"application/json" if status < 400 else b"application/problem+json"
    extra = [(b"idempotent-replayed", b"true")] if replayed else []
    await send_response(send, status, body, media, [*extra, *(headers or [])])


def _max_body(scope: Scope) -> int:
    """The route's ``request_max_body_size`` (Litestar's default: 10 MB), what Litestar itself
    would read of the body at most."""
    handler = scope.get("route_handler")
    limit = handler.resolve_request_max_body_size() if handler is not None else None
    return limit if isinstance(limit, int) else _DEFAULT_MAX_BODY


def request_digest(path: str, query: bytes, caller: UUID | None, body: bytes) -> str:
    """What makes two POSTs the same request. The calling token is part of it: another token
    (a viewer's, say) reusing a key gets a 422, never the first caller's stored response (an
    owner's new token secret)."""
    token = caller.bytes if caller is not None else b""
    return hashlib.sha256(b"\n".join([b"POST", path.encode(), query, token, body])).hexdigest()


_settling: set[asyncio.Task[None]] = set()  # claims being settled in the background (kept referenced)


async def _settle(step: Callable[[], Awaitable[None]]) -> None:
    """Run ``step`` (a claim's release or completion); if the store fails, retry it in the
    background, with backoff, until it succeeds or the claim's lock has lapsed anyway."""
    try:
        await step()
    except Exception:
        task = asyncio.create_task(_settle_later(step))
        _settling.add(task)
        task.add_done_callback(_settling.discard)


async def _settle_later(step: Callable[[], Awaitable[None]]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOCK.total_seconds()
    delay = 0.25
    while loop.time() < deadline:
        await asyncio.sleep(delay)
        try:
            await step()
            return
        except Exception:
            delay = min(delay * 2, 2.0)
    log.warning("an idempotency claim could not be settled; it lapses with its lock")


class IdempotencyMiddleware:
    """ASGI middleware in front of the API routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":  # nothing to do: nothing done
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        key = headers.get(b"idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        key_text = key.decode("latin-1")
        if not _KEY.match(key_text):
            await _respond(send, 400, _problem(400, "Bad Idempotency-Key", "1 to 255 printable characters"))
            return
        runtime = scope["app"].state.runtime
        # Who asks comes first, from the headers alone: an anonymous upload is never read here.
        actor = await request_actor(scope, runtime.app)
        path = scope.get("path", "")
        if actor is not None:
            namespace = actor.tenant_id
        elif path == "/api/signup":
            namespace = SIGNUP_NAMESPACE
        else:  # unauthenticated: let the route answer 401
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, _max_body(scope))
        if body is None:  # over the route's limit (or the client left): refused before any claim
            problem = {"status": 413, "title": "Body too large", "detail": "the body is over this route's limit",
                       "code": "body_too_large", "type": "https://valorize.dev/problems/body_too_large"}  # fmt: skip
            await _respond(send, 413, json.dumps(problem).encode())
            return
        caller = actor.token_id if actor is not None else None
        digest = request_digest(path, scope.get("query_string", b""), caller, body)
        store = runtime.idempotency
        now = runtime.app.ports.clock.now()
        claim = await store.claim(namespace, key_text, digest, now, TTL, LOCK)
        if isinstance(claim, Replay):
            await _respond(send, claim.status, claim.body, replayed=True)
            return
        if isinstance(claim, Mismatch):
            await _respond(
                send, 422, _problem(422, "Idempotency-Key reused", "this key was used with a different request")
            )
            return
        if isinstance(claim, Applied):  # its process died after the commit: never run twice
            await _respond(send, 409, _ALREADY_APPLIED)
            return
        if isinstance(claim, InProgress):
            # Also what a retry meets when the first request was cut by an outage that kept its
            # claim from being released: the claim lapses after LOCK; Retry-After says when to look.
            detail = "a request with this key is still being processed, or was cut short; retry later"
            await _respond(
                send,
                409,
                _problem(409, "Request in progress", detail, "request_in_progress"),
                headers=[(b"retry-after", b"1")],
            )
            return
        captured: dict[str, Any] = {"status": 500, "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            # The request's writing units of the tenant mark the key applied as they commit.
            # Signup's (the namespace is no tenant) mark nothing: its retry meets the e-mail taken.
            with applying_key(namespace, key_text, claim.claimed_at):
                await self.app(scope, replaying(body, receive), capture)
        except BaseException:
            await _settle(lambda: store.release(namespace, key_text, claim.claimed_at, _LOST_ANSWER))
            raise
        status = captured["status"]
        handler = scope.get("route_handler")
        body_kept: bytes = captured["body"]
        if status < 400 and handler is not None and handler.opt.get(HOLDS_SECRET):
            await _settle(lambda: store.complete(namespace, key_text, claim.claimed_at, 409, _SECRET_NOT_KEPT))
        elif status < 400 or status in _KEEP:
            await _settle(lambda: store.complete(namespace, key_text, claim.claimed_at, status, body_kept))
        else:
            await _settle(lambda: store.release(namespace, key_text, claim.claimed_at, _LOST_ANSWER))
