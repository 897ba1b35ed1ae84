"""The Pusher Channels features beyond subscriptions, each through an official client: pusher-js
(user sign-in, ``#server-to-user``, cache channels, encrypted channels, presence) and the
``pusher`` Python SDK (``send_to_user``, ``terminate_user_connections``, ``users_info``,
encrypted triggers), against the API and a realtime instance sharing a real Redis."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pusher
import pytest
from test_realtime_clients import JS, SECRET, Stack, _node_modules
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import realtime_serving, serving

pytestmark = pytest.mark.slow
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="module")
def stack(redis_url: str) -> Iterator[Stack]:
    settings = Settings(backend="memory", redis_url=redis_url, pusher_secret=SECRET, realtime_port=0, log_json=True,
                        pusher_encryption_master_key=MASTER_KEY)  # fmt: skip
    container = Container()
    container.settings.override(settings)
    with serving(create_app(container)) as api, realtime_serving(settings) as ws_port:
        yield Stack(api, ws_port, settings)


def _sdk(stack: Stack, **extra: Any) -> pusher.Pusher:
    host, port = stack.api.removeprefix("http://").split(":")
    return pusher.Pusher(app_id=stack.settings.pusher_app_id, key=stack.settings.pusher_key, secret=SECRET,
                         host=host, port=int(port), ssl=False, **extra)  # fmt: skip


class Node:
    """``features.mjs`` under node, read step by step."""

    def __init__(self, stack: Stack, token: str, tenant: str) -> None:
        node = shutil.which("node")
        assert node, "node is needed for the pusher-js tests"
        self.proc = subprocess.Popen(
            [node, "features.mjs", "127.0.0.1", str(stack.ws_port), stack.settings.pusher_key, stack.api, token,
             tenant],
            cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        )  # fmt: skip
        self.steps: list[dict[str, Any]] = []
        self.taken: set[int] = set()

    def until(self, step: str, **match: Any) -> dict[str, Any]:
        """The first step of that name (and fields) not returned before, in whatever order the
        client's steps came."""

        def matching(got: dict[str, Any]) -> bool:
            return got["step"] == step and all(got.get(k) == v for k, v in match.items())

        for i, got in enumerate(self.steps):
            if i not in self.taken and matching(got):
                self.taken.add(i)
                return got
        while True:
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            assert line, f"node ended early: {self.steps} {self.proc.stderr.read() if self.proc.stderr else ''}"
            self.steps.append(json.loads(line))
            got = self.steps[-1]
            assert got["step"] not in ("timeout", "subscription_error"), json.dumps(self.steps)
            if matching(got):
                self.taken.add(len(self.steps) - 1)
                return got

    def close(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=10)


def test_pusher_js_signs_in_gets_cached_encrypted_and_user_events_and_is_terminated(stack: Stack) -> None:
    _node_modules()
    token, tenant, _ = stack.signup()
    sdk, encrypting = _sdk(stack), _sdk(stack, encryption_master_key_base64=MASTER_KEY)
    sdk.trigger("cache-rates", "rate", {"usd": "5.10"})  # before anyone listens: kept for the next subscriber
    invited = httpx.post(f"{stack.api}/api/members", headers={"Authorization": f"Bearer {token}"},
                         json={"email": f"bo-{tenant}@example.com", "name": "Bo", "role": "member"})  # fmt: skip
    assert invited.status_code == 201, invited.text
    bo_id, bo_token = invited.json()["member"]["user_id"], invited.json()["token"]
    node = Node(stack, token, tenant)
    try:
        user = node.until("signed_in")["user"]
        assert user["user_info"]["name"] == "Ana"
        assert user["watchlist"] == [bo_id]  # the tenant's other members
        user_id = user["id"]
        # Bo's pusher-js signs in: Ana's watchlist says online; Bo leaves: offline.
        bo = Node(stack, bo_token, tenant)
        try:
            bo.until("signed_in")
            assert node.until("watch_online")["ids"] == [bo_id]
        finally:
            bo.close()
        assert node.until("watch_offline")["ids"] == [bo_id]
        node.until("subscribed", channel=f"#server-to-user-{user_id}")
        assert node.until("cache_event")["data"] == {"usd": "5.10"}
        node.until("cache_miss", channel="cache-empty")
        node.until("subscribed", channel=f"private-encrypted-tenant.{tenant}")
        node.until("subscribed", channel=f"presence-tenant.{tenant}")

        # An encrypted event: the SDK encrypts with the channel's shared secret, pusher-js decrypts;
        # on the wire (and in the server) it is opaque.
        channel = f"private-encrypted-tenant.{tenant}"
        with connect(f"ws://127.0.0.1:{stack.ws_port}/app/{stack.settings.pusher_key}?protocol=7") as raw:
            socket_id = json.loads(json.loads(raw.recv(5))["data"])["socket_id"]
            form = {"socket_id": socket_id, "channel_name": channel}
            signed = httpx.post(f"{stack.api}/broadcasting/auth", data=form,
                                headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
            assert base64.b64decode(signed["shared_secret"]) == pusher.crypto.generate_shared_secret(
                channel.encode(), bytes(range(32))
            )
            raw.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": signed["auth"]}}))
            assert json.loads(raw.recv(5))["event"] == "pusher_internal:subscription_succeeded"
            encrypting.trigger(channel, "secret", {"balance": "1234.56"})
            on_the_wire = json.loads(raw.recv(5))
            assert set(json.loads(on_the_wire["data"])) == {"nonce", "ciphertext"}
            assert "1234.56" not in json.dumps(on_the_wire)
        assert node.until("decrypted")["data"] == {"balance": "1234.56"}

        sdk.send_to_user(user_id, "notice", {"text": "your import is done"})
        assert node.until("user_event")["data"] == {"text": "your import is done"}
        assert sdk.users_info(f"presence-tenant.{tenant}") == {"users": [{"id": user_id}]}

        sdk.terminate_user_connections(user_id)
        assert node.until("pusher_error")["code"] == 4009
    finally:
        node.close()


def _raw(stack: Stack, path: str) -> Any:
    return connect(f"ws://127.0.0.1:{stack.ws_port}{path}")


def test_signin_and_server_to_user_channels_are_guarded(stack: Stack) -> None:
    token, _, _ = stack.signup()
    with _raw(stack, f"/app/{stack.settings.pusher_key}?protocol=7") as ws:
        socket_id = json.loads(json.loads(ws.recv(5))["data"])["socket_id"]
        # Not signed in: nobody's #server-to-user channel.
        ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "#server-to-user-someone"}}))
        refused = json.loads(ws.recv(5))
        assert (refused["event"], refused["channel"]) == ("pusher:subscription_error", "#server-to-user-someone")
        signed = httpx.post(f"{stack.api}/broadcasting/user-auth", data={"socket_id": socket_id},
                            headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
        # A user_data the API did not sign (another id) is refused, and the connection closed.
        forged = json.dumps({"id": "someone-else"})
        ws.send(json.dumps({"event": "pusher:signin", "data": {"auth": signed["auth"], "user_data": forged}}))
        assert json.loads(ws.recv(5))["data"]["code"] == 4009
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4009
    # The API signs only the caller's own user, with a valid socket id.
    assert httpx.post(f"{stack.api}/broadcasting/user-auth", data={"socket_id": "1.2"}).status_code == 401
    bad = httpx.post(f"{stack.api}/broadcasting/user-auth", data={"socket_id": "x"},
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert bad.status_code == 422


def test_a_websocket_on_an_unknown_path_is_closed_with_4005(stack: Stack) -> None:
    with _raw(stack, "/nope") as ws:
        assert json.loads(ws.recv(5))["data"]["code"] == 4005
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4005
    assert httpx.get(f"http://127.0.0.1:{stack.ws_port}/nope").status_code == 404  # plain HTTP: a 404


def test_encrypted_channels_are_refused_without_a_master_key_and_take_no_client_events(redis_url: str) -> None:
    settings = Settings(backend="memory", redis_url=redis_url, pusher_secret=SECRET, realtime_port=0, log_json=True,
                        realtime_client_events=True)  # fmt: skip
    container = Container()
    container.settings.override(settings)
    with serving(create_app(container)) as api, realtime_serving(settings) as ws_port:
        stack = Stack(api, ws_port, settings)
        token, tenant, _ = stack.signup()
        channel = f"private-encrypted-tenant.{tenant}"
        with _raw(stack, f"/app/{settings.pusher_key}?protocol=7") as ws:
            socket_id = json.loads(json.loads(ws.recv(5))["data"])["socket_id"]
            refused = httpx.post(f"{api}/broadcasting/auth", data={"socket_id": socket_id, "channel_name": channel},
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert refused.status_code == 403, refused.text
            assert "ENCRYPTION_MASTER_KEY" in refused.json()["detail"]
            private = f"private-tenant.{tenant}".replace("private-", "private-encrypted-")
            from valorize_adapters.pusher.signatures import channel_auth

            auth = channel_auth(settings.pusher_key, SECRET, socket_id, private)
            ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": private, "auth": auth}}))
            assert json.loads(ws.recv(5))["event"] == "pusher_internal:subscription_succeeded"
            ws.send(json.dumps({"event": "client-typing", "channel": private, "data": {}}))
            assert json.loads(ws.recv(5))["data"]["code"] == 4303
