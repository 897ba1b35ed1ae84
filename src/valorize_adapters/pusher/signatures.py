"""Pusher's two signatures: channel authorization and signed HTTP API requests.

* A private channel subscription carries ``auth = "{key}:{hex}"`` where ``hex`` is
  HMAC-SHA256(secret, ``"{socket_id}:{channel}"``); presence channels sign
  ``"{socket_id}:{channel}:{channel_data}"``.
* An HTTP API request carries ``auth_key``, ``auth_timestamp``, ``auth_version=1.0``,
  ``body_md5`` (for a body) and ``auth_signature`` = HMAC-SHA256(secret,
  ``"{METHOD}\\n{path}\\n{sorted query without auth_signature}"``); timestamps older or newer
  than ten minutes are refused.

Standard library only; comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "InvalidSignature",
    "channel_auth",
    "shared_secret",
    "sign_request",
    "user_auth",
    "verify_channel_auth",
    "verify_request",
    "verify_user_auth",
]

MAX_CLOCK_SKEW = 600


class InvalidSignature(Exception):
    """A signature is missing, malformed or wrong; the message says which."""


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def channel_auth(key: str, secret: str, socket_id: str, channel: str, channel_data: str | None = None) -> str:
    """The ``auth`` value a client presents to join ``channel`` from ``socket_id``."""
    subject = f"{socket_id}:{channel}" if channel_data is None else f"{socket_id}:{channel}:{channel_data}"
    return f"{key}:{_hmac(secret, subject)}"


def verify_channel_auth(
    key: str, secret: str, socket_id: str, channel: str, auth: object, channel_data: str | None = None
) -> None:
    """Raise :class:`InvalidSignature` unless ``auth`` authorizes the subscription."""
    if not isinstance(auth, str) or ":" not in auth:
        raise InvalidSignature("auth must be 'key:signature'")
    given_key, _, _ = auth.partition(":")
    if given_key != key:
        raise InvalidSignature("auth was signed for another app key")
    expected = channel_auth(key, secret, socket_id, channel, channel_data)
    if not hmac.compare_digest(auth.encode(), expected.encode()):
        raise InvalidSignature("invalid signature")


def user_auth(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """The ``auth`` value of a ``pusher:signin`` for ``user_data`` from ``socket_id``."""
    return f"{key}:{_hmac(secret, f'{socket_id}::user::{user_data}')}"


def verify_user_auth(key: str, secret: str, socket_id: str, auth: object, user_data: str) -> None:
    """Raise :class:`InvalidSignature` unless ``auth`` signs ``user_data`` for this socket."""
    if not isinstance(auth, str) or ":" not in auth:
        raise InvalidSignature("auth must be 'key:signature'")
    if auth.partition(":")[0] != key:
        raise InvalidSignature("auth was signed for another app key")
    if not hmac.compare_digest(auth.encode(), user_auth(key, secret, socket_id, user_data).encode()):
        raise InvalidSignature("invalid signature")


def shared_secret(master_key: bytes, channel: str) -> bytes:
    """An encrypted channel's key (``private-encrypted-*``), as the Pusher SDKs derive it:
    SHA-256 of the channel name followed by the operator's 32-byte master key."""
    return hashlib.sha256(channel.encode() + master_key).digest()


def _query_string(params: Mapping[str, str]) -> str:
    items = sorted((k.lower(), v) for k, v in params.items() if k.lower() != "auth_signature")
    return "&".join(f"{k}={v}" for k, v in items)


def sign_request(
    key: str, secret: str, method: str, path: str, params: Mapping[str, str], body: bytes, timestamp: int
) -> dict[str, str]:
    """The query parameters of a signed HTTP API request (what the ``pusher`` SDKs send)."""
    signed = {**params, "auth_key": key, "auth_timestamp": str(timestamp), "auth_version": "1.0"}
    if body:
        signed["body_md5"] = hashlib.md5(body, usedforsecurity=False).hexdigest()
    signed["auth_signature"] = _hmac(secret, f"{method.upper()}\n{path}\n{_query_string(signed)}")
    return signed


def verify_request(
    key: str, secret: str, method: str, path: str, params: Mapping[str, str], body: bytes, now: float
) -> None:
    """Raise :class:`InvalidSignature` unless the request was signed by the app's secret."""
    if params.get("auth_key") != key:
        raise InvalidSignature("unknown auth_key")
    if params.get("auth_version") != "1.0":
        raise InvalidSignature("auth_version must be 1.0")
    try:
        timestamp = int(params.get("auth_timestamp", ""))
    except ValueError:
        raise InvalidSignature("auth_timestamp must be a Unix time") from None
    if abs(now - timestamp) > MAX_CLOCK_SKEW:
        raise InvalidSignature("auth_timestamp is more than 600 s away from the server's time")
    if body:
        digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
        if not hmac.compare_digest(params.get("body_md5", "").encode(), digest.encode()):
            raise InvalidSignature("body_md5 does not match the body")
    expected = _hmac(secret, f"{method.upper()}\n{path}\n{_query_string(params)}")
    if not hmac.compare_digest(params.get("auth_signature", "").encode(), expected.encode()):
        raise InvalidSignature("invalid auth_signature")
