"""Realtime over HTTP: channel authorization (Laravel Echo's path) and the Pusher HTTP API.

``POST /broadcasting/auth`` signs a subscription for the caller's own channels only:
``private-tenant.{tenant_id}``, ``private-user.{user_id}``, ``presence-tenant.{tenant_id}``, and
the encrypted ``private-encrypted-tenant.{tenant_id}`` / ``private-encrypted-user.{user_id}``
(with their ``shared_secret``, when the operator set an encryption master key).
``POST /broadcasting/user-auth`` signs the caller's ``pusher:signin`` (pusher-js ``signin()``):
``user_data`` is ``{"id": user_id, "user_info": {...}, "watchlist": [...]}`` — the watchlist is
the other members of the tenant.

``POST /apps/{app_id}/events``, ``POST /apps/{app_id}/batch_events``,
``GET /apps/{app_id}/channels``, ``GET /apps/{app_id}/channels/{channel}``,
``GET /apps/{app_id}/channels/{channel}/users`` and
``POST /apps/{app_id}/users/{user_id}/terminate_connections`` are Pusher's HTTP API with its
request signatures, so other services publish with the official ``pusher`` SDKs (``send_to_user``
is an event on ``#server-to-user-{user_id}``; the Python SDK's ``terminate_user_connections``
posts to ``/users/{user_id}/terminate_connections``, without the ``/apps`` prefix, so that path
is served too).
As in Pusher's, a bad request is a 400 and a bad signature a 401; while the backplane cannot
publish or answer (Redis is down) they answer 503 with ``Retry-After`` (nothing was sent by the
request that failed; a batch may have sent the events before the failing one).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import ClientException, NotAuthorizedException, ServiceUnavailableException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from valorize_adapters.pusher.backplane import BackplaneUnavailable
from valorize_adapters.pusher.broadcaster import presence_channel, tenant_channel, user_channel
from valorize_adapters.pusher.protocol import CHANNEL_NAME, ENCRYPTED_PREFIX, SERVER_TO_USER, USER_ID
from valorize_adapters.pusher.server import TERMINATE
from valorize_adapters.pusher.signatures import InvalidSignature, channel_auth, shared_secret, user_auth, verify_request
from valorize_core.model.errors import NotFound, PermissionDenied, ValidationError
from valorize_core.model.identity import User
from valorize_core.use_cases.queries.get_user import UserLookup
from valorize_core.use_cases.queries.list_members import MembersQuery
from valorize_entrypoints.api.body_limits import is_json_media_type
from valorize_entrypoints.api.deps import RT, Reader
from valorize_entrypoints.api.responses import ERRORS
from valorize_entrypoints.api.schemas import ProblemOut
from valorize_entrypoints.container import Realtime, Runtime

__all__ = ["BroadcastingController", "PusherApiController", "PusherUserTerminationController", "UserAuthController"]

SOCKET_ID = re.compile(r"^\d{1,20}\.\d{1,20}$")
MAX_DATA_BYTES = 10_240
MAX_CHANNELS = 100
MAX_BATCH = 10
RETRY_AFTER_SECONDS = 1  # Redis restarts and the client reconnects within about a second
BACKPLANE_ERRORS = {
    **ERRORS,
    503: ResponseSpec(
        data_container=ProblemOut,
        description="The backplane is unavailable; retry after Retry-After",
        media_type="application/problem+json",
        generate_examples=False,
    ),
}


def _realtime(runtime: Runtime) -> Realtime:
    if runtime.realtime is None:
        raise NotFound("realtime app", "this deployment has none")
    return runtime.realtime


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    body = await request.body()
    # JSON exactly when the body guard took it for JSON (and checked its depth), else a form.
    if is_json_media_type(request.headers.get("content-type", "").encode("latin-1")):
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            raise ValidationError.for_field("body", "not JSON") from None
        return {k: str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace")))


async def _user(runtime: Runtime, tenant_id: UUID, user_id: UUID) -> User | None:
    """The caller's user for a presence channel's ``user_info`` (``None`` once no longer a member)."""
    try:
        return await runtime.app.get_user(UserLookup(tenant_id, user_id))
    except NotFound:
        return None


class BroadcastingController(Controller):
    path = "/broadcasting"
    tags = ("realtime",)

    @post("/auth", responses=ERRORS, status_code=200, summary="Sign a private or presence channel subscription")
    async def auth(self, request: Request[Any, Any, Any], actor: Reader, runtime: RT) -> dict[str, str]:
        realtime = _realtime(runtime)
        form = await _form(request)
        socket_id, channel = form.get("socket_id", ""), form.get("channel_name", "")
        if not SOCKET_ID.match(socket_id):
            raise ValidationError.for_field("socket_id", "must be the socket id pusher:connection_established gave")
        own = {tenant_channel(actor.tenant_id), user_channel(actor.user_id)}
        allowed = {*own, presence_channel(actor.tenant_id), *(c.replace("private-", ENCRYPTED_PREFIX, 1) for c in own)}
        if channel not in allowed:
            raise PermissionDenied(f"this token may not join {channel[:100]!r}")
        app = realtime.app
        if channel.startswith(ENCRYPTED_PREFIX):
            if not app.encryption_master_key:
                raise PermissionDenied("encrypted channels need VALORIZE_PUSHER_ENCRYPTION_MASTER_KEY on the server")
            secret = base64.b64encode(shared_secret(app.encryption_master_key, channel)).decode()
            return {"auth": channel_auth(app.key, app.secret, socket_id, channel), "shared_secret": secret}
        if channel.startswith("presence-"):
            user = await _user(runtime, actor.tenant_id, actor.user_id)
            info = {"name": user.name if user else None, "role": actor.role.value}
            channel_data = json.dumps({"user_id": str(actor.user_id), "user_info": info}, separators=(",", ":"))
            return {"auth": channel_auth(app.key, app.secret, socket_id, channel, channel_data),
                    "channel_data": channel_data}  # fmt: skip
        return {"auth": channel_auth(app.key, app.secret, socket_id, channel)}


class UserAuthController(Controller):
    path = "/broadcasting/user-auth"
    tags = ("realtime",)

    @post("/", responses=ERRORS, status_code=200, summary="Sign the caller's pusher:signin (user authentication)")
    async def user_auth(self, request: Request[Any, Any, Any], actor: Reader, runtime: RT) -> dict[str, str]:
        realtime = _realtime(runtime)
        socket_id = (await _form(request)).get("socket_id", "")
        if not SOCKET_ID.match(socket_id):
            raise ValidationError.for_field("socket_id", "must be the socket id pusher:connection_established gave")
        user = await _user(runtime, actor.tenant_id, actor.user_id)
        members = await runtime.app.list_members(MembersQuery(actor.tenant_id))
        user_data = json.dumps({
            "id": str(actor.user_id),
            "user_info": {"name": user.name if user else None, "role": actor.role.value},
            "watchlist": sorted(str(m.user.id) for m in members if m.user.id != actor.user_id)[:100],
        }, separators=(",", ":"))  # fmt: skip
        return {"auth": user_auth(realtime.app.key, realtime.app.secret, socket_id, user_data), "user_data": user_data}


@asynccontextmanager
async def _backplane_answers() -> AsyncIterator[None]:
    """A backplane that cannot answer is a 503 the caller retries, never a 500."""
    try:
        yield
    except BackplaneUnavailable:
        raise ServiceUnavailableException(
            "the realtime backplane is unavailable; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None


def _bad(field: str, message: str) -> ClientException:
    """Pusher's HTTP API answers bad requests with 400 (its SDKs raise ``PusherBadRequest``)."""
    return ClientException(f"{field}: {message}")


def _channels(body: dict[str, Any]) -> list[str]:
    raw = body.get("channels", [body["channel"]] if "channel" in body else None)
    if not isinstance(raw, list) or not raw or len(raw) > MAX_CHANNELS:
        raise _bad("channels", f"give 1 to {MAX_CHANNELS} channel names")
    for name in raw:
        if not isinstance(name, str) or not CHANNEL_NAME.match(name):
            raise _bad("channels", f"invalid channel name {str(name)[:100]!r}")
    return raw


def _event(body: Any) -> tuple[list[str], str, str, str | None]:
    """Channels, name, data and socket id of one event, validated before anything is sent."""
    if not isinstance(body, dict):
        raise _bad("body", "an event is a JSON object")
    name, data, socket_id = body.get("name"), body.get("data"), body.get("socket_id")
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        raise _bad("name", "1 to 200 characters")
    if name.startswith(("pusher:", "pusher_internal:")):
        raise _bad("name", "the pusher: prefixes are reserved")
    if not isinstance(data, str):
        data = json.dumps(data)
    if len(data.encode()) > MAX_DATA_BYTES:
        raise _bad("data", f"at most {MAX_DATA_BYTES} bytes")
    if socket_id is not None and (not isinstance(socket_id, str) or not SOCKET_ID.match(socket_id)):
        raise _bad("socket_id", "not a socket id")
    return _channels(body), name, data, socket_id


class PusherApiController(Controller):
    path = "/apps/{app_id:str}"
    tags = ("realtime",)

    @staticmethod
    async def _signed(request: Request[Any, Any, Any], runtime: Runtime, app_id: str) -> tuple[Realtime, Any]:
        """The realtime app and the parsed body, once the request's signature checks out."""
        realtime = _realtime(runtime)
        if app_id != realtime.app.app_id:
            raise NotFound("app", app_id)
        body = await request.body()
        params = dict(request.query_params.items())
        try:
            verify_request(realtime.app.key, realtime.app.secret, request.method, request.url.path, params, body,
                           time.time())  # fmt: skip
        except InvalidSignature as exc:
            raise NotAuthorizedException(str(exc)) from None
        try:
            return realtime, json.loads(body) if body else {}
        except ValueError:
            raise _bad("body", "not JSON") from None

    @post(
        "/events", responses=BACKPLANE_ERRORS, status_code=200, summary="Trigger an event on channels (Pusher HTTP API)"
    )
    async def trigger(self, app_id: FromPath[str], request: Request[Any, Any, Any], runtime: RT) -> dict[str, Any]:
        realtime, body = await self._signed(request, runtime, app_id)
        channels, name, data, socket_id = _event(body)
        async with _backplane_answers():
            for channel in channels:
                await realtime.backplane.publish(channel, name, data, exclude=socket_id)
        return {}

    @post(
        "/batch_events",
        responses=BACKPLANE_ERRORS,
        status_code=200,
        summary="Trigger up to 10 events (Pusher HTTP API)",
    )
    async def trigger_batch(
        self, app_id: FromPath[str], request: Request[Any, Any, Any], runtime: RT
    ) -> dict[str, Any]:
        realtime, body = await self._signed(request, runtime, app_id)
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
            raise _bad("batch", f"give 1 to {MAX_BATCH} events")
        events = [_event(item) for item in batch]  # all valid, or none is sent
        async with _backplane_answers():
            for channels, name, data, socket_id in events:
                for channel in channels:
                    await realtime.backplane.publish(channel, name, data, exclude=socket_id)
        return {"batch": [{} for _ in events]}

    @get("/channels", responses=BACKPLANE_ERRORS, summary="Occupied channels (Pusher HTTP API)")
    async def channels(self, app_id: FromPath[str], request: Request[Any, Any, Any], runtime: RT) -> dict[str, Any]:
        realtime, _ = await self._signed(request, runtime, app_id)
        prefix = request.query_params.get("filter_by_prefix", "")
        info = set(filter(None, request.query_params.get("info", "").split(",")))
        if "user_count" in info and not prefix.startswith("presence-"):
            raise _bad("info", "user_count needs filter_by_prefix=presence-")
        out: dict[str, Any] = {}
        async with _backplane_answers():
            occupied = {c: n for c, n in (await realtime.backplane.channels()).items() if c.startswith(prefix)}
            for channel, count in sorted(occupied.items()):
                entry: dict[str, int] = {}
                if "subscription_count" in info:
                    entry["subscription_count"] = count
                if "user_count" in info:
                    entry["user_count"] = len(await realtime.backplane.members(channel))
                out[channel] = entry
        return {"channels": out}

    @get("/channels/{channel:str}", responses=BACKPLANE_ERRORS, summary="One channel's state (Pusher HTTP API)")
    async def channel(
        self, app_id: FromPath[str], channel: FromPath[str], request: Request[Any, Any, Any], runtime: RT
    ) -> dict[str, Any]:
        realtime, _ = await self._signed(request, runtime, app_id)
        info = set(filter(None, request.query_params.get("info", "").split(",")))
        async with _backplane_answers():
            count = (await realtime.backplane.channels()).get(channel, 0)
            out: dict[str, Any] = {"occupied": count > 0}
            if "subscription_count" in info:
                out["subscription_count"] = count
            if "user_count" in info and channel.startswith("presence-"):
                out["user_count"] = len(await realtime.backplane.members(channel))
        return out

    @get(
        "/channels/{channel:str}/users",
        responses=BACKPLANE_ERRORS,
        summary="A presence channel's users (Pusher HTTP API)",
    )
    async def users(
        self, app_id: FromPath[str], channel: FromPath[str], request: Request[Any, Any, Any], runtime: RT
    ) -> dict[str, Any]:
        realtime, _ = await self._signed(request, runtime, app_id)
        if not channel.startswith("presence-"):
            raise _bad("channel", "users are listed for presence channels only")
        async with _backplane_answers():
            members = await realtime.backplane.members(channel)
        return {"users": [{"id": user_id} for user_id in sorted(members)]}

    @post(
        "/users/{user_id:str}/terminate_connections",
        responses=BACKPLANE_ERRORS,
        status_code=200,
        summary="Close every connection of a signed-in user (Pusher HTTP API)",
    )
    async def terminate(
        self, app_id: FromPath[str], user_id: FromPath[str], request: Request[Any, Any, Any], runtime: RT
    ) -> dict[str, Any]:
        realtime, _ = await self._signed(request, runtime, app_id)
        return await _terminate(realtime, user_id)


async def _terminate(realtime: Realtime, user_id: str) -> dict[str, Any]:
    if not USER_ID.match(user_id):
        raise _bad("user_id", "not a user id")
    async with _backplane_answers():
        await realtime.backplane.publish(SERVER_TO_USER + user_id, TERMINATE, "{}")
    return {}


class PusherUserTerminationController(Controller):
    """The Python SDK's ``terminate_user_connections`` path (it leaves out ``/apps/{app_id}``);
    signed like every HTTP API call, for the one app this server has."""

    path = "/users"
    tags = ("realtime",)

    @post(
        "/{user_id:str}/terminate_connections",
        responses=BACKPLANE_ERRORS,
        status_code=200,
        summary="Close every connection of a signed-in user (the Python SDK's path)",
    )
    async def terminate(self, user_id: FromPath[str], request: Request[Any, Any, Any], runtime: RT) -> dict[str, Any]:
        realtime, _ = await PusherApiController._signed(request, runtime, _realtime(runtime).app.app_id)
        return await _terminate(realtime, user_id)
