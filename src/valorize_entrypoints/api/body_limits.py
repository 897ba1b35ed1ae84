"""JSON bodies checked before any work: media type (415), size (413) and nesting depth (400).

The middleware runs after routing and before authentication, rate limits, the cached-read and
the idempotency middlewares (app.py), so a hostile body costs a bounded read and one linear
scan, never a token lookup, an idempotency claim or a decoder's recursion:

* a route that decodes its ``data`` as JSON requires ``Content-Type: application/json`` (or a
  ``+json`` type); any other type with a body is 415 — a ``text/plain`` body is never parsed as
  JSON. Routes that take multipart or form data, or read their raw body, keep their own types;
* a JSON body larger than ``max_bytes`` is 413, refused from ``Content-Length`` when it says so,
  else as soon as the bytes read pass the limit;
* a JSON body nested deeper than ``max_depth`` is 400. Decoders recurse (msgspec and the
  standard library raise ``RecursionError`` around depth 1,000), so the depth is measured first
  by :func:`json_too_deep`, which counts brackets outside strings in one pass;
* then, after authentication and rate limits (:class:`StrictJsonBodyMiddleware`), a JSON
  route's body is decoded into its type in msgspec's strict mode, as the OpenAPI document
  describes it: Litestar converts request data leniently (``"archived": 0`` became ``False``,
  ``"7"`` became 7), which accepted bodies the schema refuses. A mismatch is 422 for an
  authenticated caller; an anonymous one goes on to the route, which answers 401 as before.
"""

from __future__ import annotations

import json
import re
import weakref
from itertools import accumulate
from typing import Any

import msgspec
from litestar.enums import RequestEncodingType

from valorize_entrypoints.api.asgi import ASGIApp, Receive, Scope, Send, read_body, replaying, send_response
from valorize_entrypoints.api.auth import request_actor

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "JsonBodyGuardMiddleware",
    "StrictJsonBodyMiddleware",
    "is_json_media_type",
    "json_too_deep",
]

MAX_JSON_BYTES = 1 << 20
MAX_JSON_DEPTH = 32

# A JSON string: quotes around anything but quotes and backslashes, or escapes.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PROBLEM = b"application/problem+json"
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON text ``body`` nests arrays and objects more than ``limit`` deep.

    Linear in the body's length and without recursion: brackets outside strings, summed. A body
    with no more than ``limit`` opening brackets in all (most bodies) is answered by two counts.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def is_json_media_type(content_type: bytes) -> bool:
    """``application/json`` or any ``+json`` type (``application/merge-patch+json``), with any
    parameters (``; charset=utf-8``)."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _problem(status: int, title: str, detail: str, code: str) -> bytes:
    problem = {"status": status, "title": title, "detail": detail, "code": code}
    return json.dumps({**problem, "type": f"https://valorize.dev/problems/{code}"}).encode()


class _JsonRoute:
    """A route that decodes a ``data`` parameter from a JSON body, and its strict decoder."""

    def __init__(self, annotation: Any) -> None:
        try:
            self.decoder: msgspec.json.Decoder[Any] | None = msgspec.json.Decoder(annotation, strict=True)
        except TypeError:  # a type msgspec cannot decode into: Litestar alone decides
            self.decoder = None

    def refusal(self, body: bytes) -> bytes | None:
        """The 422 problem for a body that does not fit the type, strictly; else ``None``
        (malformed JSON is left to Litestar's 400)."""
        if self.decoder is None or not body:
            return None
        try:
            self.decoder.decode(body)
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `$")
            field = where.rstrip("`").lstrip(".")
            problem = json.loads(_problem(422, "Invalid input", message, "validation_error"))
            return json.dumps({**problem, "errors": [{"field": field, "message": message}]}).encode()
        except msgspec.DecodeError:
            return None
        return None


_JSON_ROUTES: weakref.WeakKeyDictionary[Any, _JsonRoute | None] = weakref.WeakKeyDictionary()


def _json_route(handler: Any) -> _JsonRoute | None:
    """The route's JSON ``data`` and its decoder, or ``None`` (worked out once per handler)."""
    try:
        return _JSON_ROUTES[handler]
    except KeyError:
        pass
    data = handler.parsed_fn_signature.parameters.get("data")
    media = getattr(data.kwarg_definition, "media_type", None) if data is not None else None
    takes_json = data is not None and (media is None or media == RequestEncodingType.JSON)
    found = _JSON_ROUTES[handler] = _JsonRoute(data.annotation) if takes_json else None
    return found


class JsonBodyGuardMiddleware:
    """ASGI middleware (after routing) that refuses hostile JSON bodies before anything else."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        content_type, length = b"", None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
        handler = scope.get("route_handler")
        json_route = _json_route(handler) if handler is not None else None
        declared_json = is_json_media_type(content_type)
        if not declared_json and json_route is None:
            await self.app(scope, receive, send)  # multipart, forms, raw bodies: their own rules
            return
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse_size(send)
            return
        body = await read_body(receive, self.max_bytes)
        if body is None:  # too large (or gone: then nobody reads the answer)
            await self._refuse_size(send)
            return
        if body and not declared_json:
            detail = "send JSON bodies as Content-Type: application/json"
            await send_response(
                send, 415, _problem(415, "Unsupported media type", detail, "unsupported_media_type"), _PROBLEM
            )
            return
        if json_too_deep(body, self.max_depth):
            detail = f"JSON may nest at most {self.max_depth} levels deep"
            await send_response(send, 400, _problem(400, "JSON too deep", detail, "json_too_deep"), _PROBLEM)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _refuse_size(self, send: Send) -> None:
        detail = f"JSON bodies are at most {self.max_bytes} bytes"
        problem = _problem(413, "Body too large", detail, "body_too_large")
        # The client may still be sending: the connection closes rather than read what is left.
        await send_response(send, 413, problem, _PROBLEM, [(b"connection", b"close")])


class StrictJsonBodyMiddleware:
    """ASGI middleware (after authentication and rate limits): a JSON route's body decoded
    strictly into its type; 422 for an authenticated caller whose body does not fit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        json_route = _json_route(handler) if handler is not None and scope["type"] == "http" else None
        if json_route is None or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, 1 << 62)  # bounded already by JsonBodyGuardMiddleware
        if body is None:
            return
        refusal = json_route.refusal(body)
        if refusal is not None and await request_actor(scope, scope["app"].state.runtime.app) is not None:
            await send_response(send, 422, refusal, _PROBLEM)
            return
        await self.app(scope, replaying(body, receive), send)
