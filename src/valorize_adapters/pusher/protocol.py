"""The Pusher Channels protocol (version 7), sans I/O.

A :class:`PusherSession` is one client connection's state. It never touches a socket: it
takes text frames and the time, and returns *actions* — frames to send, channels to join or
leave, client events to broadcast, a close — which the server carries out. The same session
therefore runs under the websockets server and in unit tests with no socket at all.

Frames are JSON objects ``{"event": ..., "channel": ..., "data": ...}``; server-sent ``data``
is a JSON-encoded string, as pusher-js expects.

Error codes (``pusher:error`` data ``{"code", "message"}``, or the close code):

* 4001 unknown app key, 4005 path not found, 4007 unsupported protocol, 4008 no protocol
  version (the connection is closed; clients do not reconnect);
* 4009 unauthorized: a ``pusher:signin`` whose signature fails, or the user's connections were
  terminated through the HTTP API (closed);
* 4100 over capacity: the client could not keep up with its messages (closed; reconnect later);
* 4201 pong not received in time (closed; reconnect at once);
* 4300 invalid message, 4301 rate limit exceeded, 4302 message too large, 4303 client events
  are disabled or not allowed on that channel (the message is dropped, the connection stays).

The rate limit (``rate_per_second``, ``rate_burst``) counts client events only; subscribes,
unsubscribes and pings pass under a flood guard :data:`FRAME_ALLOWANCE` times as generous.

**User authentication** (``pusher:signin`` with ``auth`` = ``key:HMAC-SHA256(secret,
"{socket_id}::user::{user_data}")`` and ``user_data`` JSON with an ``id``) answers
``pusher:signin_success``; the connection then receives the user's ``#server-to-user-{id}``
channel (``send_to_user``), which only a connection signed in as that user may subscribe to.
A ``watchlist`` (user ids) in ``user_data`` makes the connection a watcher: it gets
``pusher_internal:watchlist_events`` (``{"events": [{"name": "online" | "offline",
"user_ids": [...]}]}``) when a watched user's first connection signs in or last one leaves.

**Cache channels** (``cache-``, ``private-cache-``, ``presence-cache-``,
``private-encrypted-cache-``) keep their last event for :data:`CACHE_TTL_SECONDS`; a new
subscriber gets it right after ``pusher_internal:subscription_succeeded``, or
``pusher:cache_miss`` when there is none. **Encrypted channels** (``private-encrypted-``) are
private channels whose payloads the publisher encrypted; the server relays them as they are and
refuses client events on them, as Pusher does.

A refused subscription answers ``pusher:subscription_error`` on the channel with
``{"type": "AuthError", "error": ..., "status": 401}``, or ``{"type": "LimitReached", ...,
"status": 429}`` when the flood guard refused it, so the client knows which channel failed.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from valorize_adapters.pusher.signatures import InvalidSignature, verify_channel_auth, verify_user_auth

__all__ = [
    "AppConfig",
    "Broadcast",
    "Close",
    "Join",
    "Leave",
    "Member",
    "PusherSession",
    "Send",
    "SignIn",
    "frame",
]

PROTOCOL_VERSION = 7
SERVER_TO_USER = "#server-to-user-"
WATCHLIST = "#watchlist-"  # internal: the online/offline notices of one user, for its watchers
MAX_WATCHLIST = 100
CHANNEL_NAME = re.compile(r"^(#server-to-user-)?[A-Za-z0-9_\-=@,.;]{1,164}$")
USER_ID = re.compile(r"^[A-Za-z0-9_\-=@,.;]{1,200}$")
CACHE_PREFIXES = ("cache-", "private-cache-", "presence-cache-", "private-encrypted-cache-")
CACHE_TTL_SECONDS = 1800  # Pusher keeps a cache channel's last event for 30 minutes
ENCRYPTED_PREFIX = "private-encrypted-"
PONG_TIMEOUT = 30.0
#: Frames other than client events (subscribe, unsubscribe, ping) may come this many times as
#: fast as client events: a guard against floods, far above what pusher-js sends on a reconnect.
FRAME_ALLOWANCE = 10


@dataclass(frozen=True, slots=True)
class AppConfig:
    """One Pusher app: its credentials and the server's limits for its connections."""

    app_id: str
    key: str
    secret: str
    client_events: bool = False
    activity_timeout: int = 120
    max_message_bytes: int = 10_000
    rate_per_second: float = 20.0
    rate_burst: int = 40
    max_presence_members: int = 100
    encryption_master_key: bytes = b""  # derives encrypted channels' shared secrets (none: refused)


@dataclass(frozen=True, slots=True)
class Member:
    """A presence channel member: the id the app chose and what it tells the others."""

    user_id: str
    user_info: Any = None


@dataclass(frozen=True, slots=True)
class Send:
    """Send this text frame to the client; ``error`` is the code when it is a ``pusher:error``."""

    text: str
    error: int | None = None


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection with a Pusher close code (after sending what came before)."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Join:
    """Register the subscription (and presence member); then call :meth:`PusherSession.joined`."""

    channel: str
    member: Member | None = None


@dataclass(frozen=True, slots=True)
class Leave:
    """Drop the subscription (and presence member)."""

    channel: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """The connection is signed in as ``user_id``: count it online and watch ``watchlist``."""

    user_id: str
    watchlist: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A client event for every other subscriber of ``channel`` (never echoed to its sender)."""

    channel: str
    event: str
    data: str
    user_id: str | None = None


Action = Send | Close | Join | Leave | Broadcast | SignIn


def is_cache_channel(channel: str) -> bool:
    """Whether ``channel`` keeps its last event for new subscribers."""
    return channel.startswith(CACHE_PREFIXES)


def frame(event: str, data: Any, channel: str | None = None, user_id: str | None = None) -> str:
    """A server frame; ``data`` is sent as a JSON string unless it already is a string."""
    out: dict[str, Any] = {"event": event, "data": data if isinstance(data, str) else json.dumps(data)}
    if channel is not None:
        out["channel"] = channel
    if user_id is not None:
        out["user_id"] = user_id
    return json.dumps(out, separators=(",", ":"))


def error(code: int, message: str) -> Send:
    """A ``pusher:error`` frame (its data is an object, as Pusher sends it)."""
    return Send(json.dumps({"event": "pusher:error", "data": {"code": code, "message": message}}), code)


@dataclass(slots=True)
class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    at: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def check_connection(app: AppConfig, path: str, query: dict[str, str]) -> Close | None:
    """Why a new connection must be refused (``/app/{key}?protocol=7``), or ``None``."""
    if not path.startswith("/app/"):
        return Close(4005, "Path not found")
    if path.removeprefix("/app/").strip("/") != app.key:
        return Close(4001, "App key not found")
    raw = query.get("protocol")
    if raw is None:
        return Close(4008, "No protocol version supplied")
    if not raw.isdigit() or int(raw) < PROTOCOL_VERSION:
        return Close(4007, f"Unsupported protocol version {raw}; this server speaks {PROTOCOL_VERSION}")
    return None


class PusherSession:
    """One connection's protocol state: its channels, presence identity, limits and liveness."""

    def __init__(self, app: AppConfig, socket_id: str, now: float) -> None:
        self.app = app
        self.socket_id = socket_id
        self.channels: set[str] = set()
        self.pending: set[str] = set()  # joins asked of the server, not yet confirmed
        self.presence: dict[str, Member] = {}
        self.user_id: str | None = None  # set by a valid pusher:signin
        self._client_events = _Bucket(app.rate_per_second, app.rate_burst, at=now)
        self._frames = _Bucket(app.rate_per_second * FRAME_ALLOWANCE, app.rate_burst * FRAME_ALLOWANCE, at=now)
        self._last_seen = now
        self._pinged_at: float | None = None

    # -- the connection's life -------------------------------------------------------------
    def opening(self) -> list[Action]:
        """The first frame: the socket id and the activity timeout."""
        data = {"socket_id": self.socket_id, "activity_timeout": self.app.activity_timeout}
        return [Send(frame("pusher:connection_established", data))]

    def idle(self, now: float) -> list[Action]:
        """Called periodically: ping a quiet client, close one that never answered."""
        if self._pinged_at is not None:
            if now - self._pinged_at > PONG_TIMEOUT:
                return [Close(4201, "Pong reply not received")]
            return []
        if now - self._last_seen >= self.app.activity_timeout:
            self._pinged_at = now
            return [Send(frame("pusher:ping", {}))]
        return []

    def closed(self) -> list[Action]:
        """The connection ended: leave every channel."""
        gone = [Leave(c) for c in sorted(self.channels | self.pending)]
        self.channels.clear()
        self.pending.clear()
        self.presence.clear()
        return list(gone)

    # -- what the client sends -------------------------------------------------------------
    def receive(self, text: str | bytes, now: float) -> list[Action]:
        """Handle one frame from the client."""
        self._last_seen = now
        self._pinged_at = None
        size = len(text.encode() if isinstance(text, str) else text)
        if size > self.app.max_message_bytes:
            return [error(4302, f"Message too large: {size} bytes; the limit is {self.app.max_message_bytes}")]
        within_guard = self._frames.take(now)
        try:
            message = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            return [error(4301 if not within_guard else 4300, "Invalid message: not JSON")]
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            return [error(4301 if not within_guard else 4300, "Invalid message: expected an object with an event name")]
        event: str = message["event"]
        data = message.get("data")
        if isinstance(data, str) and event.startswith("pusher:"):
            with contextlib.suppress(ValueError):  # some clients send data JSON-encoded
                data = json.loads(data)
        if not within_guard:
            return [self._flooded(event, data)]
        if event.startswith("client-") and not self._client_events.take(now):
            return [error(4301, "Client event rejected due to rate limit")]
        if event == "pusher:ping":
            return [Send(frame("pusher:pong", {}))]
        if event == "pusher:pong":
            return []
        if event == "pusher:subscribe":
            return self._subscribe(data)
        if event == "pusher:signin":
            return self._signin(data)
        if event == "pusher:unsubscribe":
            channel = data.get("channel") if isinstance(data, dict) else None
            if not isinstance(channel, str) or channel not in self.channels | self.pending:
                return []
            self.channels.discard(channel)
            self.pending.discard(channel)
            self.presence.pop(channel, None)
            return [Leave(channel)]
        if event.startswith("client-"):
            return self._client_event(event, message.get("channel"), message.get("data"))
        return [error(4300, f"Unknown event {event[:64]!r}")]

    def _subscribe(self, data: Any) -> list[Action]:
        if not isinstance(data, dict) or not isinstance(data.get("channel"), str):
            return [error(4300, "pusher:subscribe needs data.channel")]
        channel: str = data["channel"]
        if not CHANNEL_NAME.match(channel):
            return [error(4300, "Invalid channel name")]
        if channel.startswith(SERVER_TO_USER):
            if self.user_id is None or channel != SERVER_TO_USER + self.user_id:
                return [self._refused(channel, "only a connection signed in as this user may subscribe")]
            if channel in self.channels:  # joined at the signin: confirm to the client's own subscribe
                return [Send(frame("pusher_internal:subscription_succeeded", {}, channel))]
            if channel in self.pending:
                return []
            self.pending.add(channel)
            return [Join(channel)]
        if channel in self.channels or channel in self.pending:
            return []  # already there: pusher-js resubscribes after reconnects, harmless
        member = None
        if channel.startswith(("private-", "presence-")):
            channel_data = data.get("channel_data") if channel.startswith("presence-") else None
            if channel.startswith("presence-") and not isinstance(channel_data, str):
                return [self._refused(channel, "presence channels need channel_data")]
            try:
                verify_channel_auth(self.app.key, self.app.secret, self.socket_id, channel, data.get("auth"),
                                    channel_data)  # fmt: skip
            except InvalidSignature as exc:
                return [self._refused(channel, str(exc))]
            if channel_data is not None:
                try:
                    parsed = json.loads(channel_data)
                    member = Member(str(parsed["user_id"]), parsed.get("user_info"))
                except (ValueError, KeyError, TypeError):
                    return [self._refused(channel, "channel_data must be JSON with a user_id")]
                self.presence[channel] = member
        self.pending.add(channel)
        return [Join(channel, member)]

    def _signin(self, data: Any) -> list[Action]:
        """``pusher:signin``: the user this connection belongs to, signed by the app's server."""
        if not isinstance(data, dict) or not isinstance(data.get("user_data"), str):
            return [error(4300, "pusher:signin needs data.auth and data.user_data")]
        user_data: str = data["user_data"]
        try:
            verify_user_auth(self.app.key, self.app.secret, self.socket_id, data.get("auth"), user_data)
            parsed = json.loads(user_data)
            user_id, watchlist = parsed["id"], parsed.get("watchlist") or []
        except (InvalidSignature, ValueError, KeyError, TypeError, AttributeError) as exc:
            why = str(exc) if isinstance(exc, InvalidSignature) else "user_data must be JSON with an id"
            return [error(4009, f"Unauthorized: {why}"), Close(4009, "Unauthorized")]
        if not isinstance(user_id, str) or not USER_ID.match(user_id):
            return [error(4009, "Unauthorized: the user id is not valid"), Close(4009, "Unauthorized")]
        if (
            not isinstance(watchlist, list)
            or len(watchlist) > MAX_WATCHLIST
            or not all(isinstance(w, str) and USER_ID.match(w) for w in watchlist)
        ):
            return [error(4009, f"Unauthorized: a watchlist is up to {MAX_WATCHLIST} user ids"),
                    Close(4009, "Unauthorized")]  # fmt: skip
        if self.user_id is not None and self.user_id != user_id:
            return [error(4009, "Unauthorized: this connection is signed in as another user"),
                    Close(4009, "Unauthorized")]  # fmt: skip
        first = self.user_id is None
        self.user_id = user_id
        out: list[Action] = [Send(frame("pusher:signin_success", {"user_data": user_data}))]
        if first:  # the user's channel: send_to_user and terminate_connections reach it
            self.pending.add(SERVER_TO_USER + user_id)
            out.append(Join(SERVER_TO_USER + user_id))
            out.append(SignIn(user_id, tuple(dict.fromkeys(w for w in watchlist if w != user_id))))
        return out

    def _flooded(self, event: str, data: Any) -> Send:
        """The flood guard's refusal; a subscription's names its channel (pusher-js stops waiting)."""
        channel = data.get("channel") if isinstance(data, dict) else None
        if event == "pusher:subscribe" and isinstance(channel, str) and CHANNEL_NAME.match(channel):
            why = {"type": "LimitReached", "error": "too many frames: subscribe again shortly", "status": 429}
            return Send(frame("pusher:subscription_error", why, channel), 4301)
        return error(4301, "Rate limit exceeded: too many frames")

    def _refused(self, channel: str, why: str) -> Send:
        return Send(frame("pusher:subscription_error", {"type": "AuthError", "error": why, "status": 401}, channel))

    def _client_event(self, event: str, channel: Any, data: Any) -> list[Action]:
        if not self.app.client_events:
            return [error(4303, "Client events are disabled for this app")]
        if not isinstance(channel, str) or not channel.startswith(("private-", "presence-")):
            return [error(4303, "Client events are only allowed on private and presence channels")]
        if channel.startswith(ENCRYPTED_PREFIX):
            return [error(4303, "Client events are not allowed on encrypted channels")]
        if channel not in self.channels:
            return [error(4303, f"Not subscribed to {channel}")]
        payload = data if isinstance(data, str) else json.dumps(data)
        member = self.presence.get(channel)
        return [Broadcast(channel, event, payload, member.user_id if member else None)]

    # -- what the server reports back ------------------------------------------------------
    def joined(
        self, channel: str, members: dict[str, Any] | None = None, cached: tuple[str, str] | None = None
    ) -> list[Action]:
        """The server registered the subscription; ``members`` (presence) maps id → info;
        ``cached`` is a cache channel's last event (``(event, data)``), if it has one."""
        if channel not in self.pending:
            return []  # unsubscribed meanwhile
        self.pending.discard(channel)
        self.channels.add(channel)
        if channel.startswith("presence-"):
            members = members or {}
            data: Any = {"presence": {"ids": list(members), "hash": members, "count": len(members)}}
        else:
            data = {}
        out: list[Action] = [Send(frame("pusher_internal:subscription_succeeded", data, channel))]
        if is_cache_channel(channel):
            last = frame(cached[0], cached[1], channel) if cached else frame("pusher:cache_miss", {}, channel)
            out.append(Send(last))
        return out

    def deliver(self, channel: str, event: str, data: str, user_id: str | None = None) -> str | None:
        """The frame for a channel message, or ``None`` when this client is not subscribed."""
        if channel not in self.channels:
            return None
        return frame(event, data, channel, user_id)
