"""Real clients against the whole stack: the API (memory backend) and a realtime instance
sharing a real Redis; pusher-js under Laravel Echo from npm, and the official ``pusher`` SDK."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pusher
import pytest
from websockets.sync.client import connect

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import realtime_serving, serving

pytestmark = pytest.mark.slow
JS = Path(__file__).parent / "realtime_js"
SECRET = "realtime-test-secret"


class Stack:
    def __init__(self, api: str, ws_port: int, settings: Settings) -> None:
        self.api, self.ws_port, self.settings = api, ws_port, settings

    def signup(self) -> tuple[str, str, str]:
        """A new tenant: its token, tenant id and an account id."""
        body = {"tenant_name": "Casa", "email": f"{uuid.uuid4().hex}@example.com", "name": "Ana"}
        signed = httpx.post(f"{self.api}/api/signup", json=body).json()
        headers = {"Authorization": f"Bearer {signed['token']}"}
        account = httpx.post(f"{self.api}/api/accounts", headers=headers,
                             json={"name": "Conta", "kind": "checking", "currency": "BRL"}).json()  # fmt: skip
        return signed["token"], signed["tenant_id"], account["id"]


@pytest.fixture(scope="module")
def stack(redis_url: str) -> Iterator[Stack]:
    settings = Settings(backend="memory", redis_url=redis_url, pusher_secret=SECRET, realtime_port=0, log_json=True)
    container = Container()
    container.settings.override(settings)
    with serving(create_app(container)) as api, realtime_serving(settings) as ws_port:
        yield Stack(api, ws_port, settings)


def _node_modules() -> None:
    if not (JS / "node_modules" / "pusher-js").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the pusher-js test"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS, check=True, timeout=300)


def test_pusher_js_and_laravel_echo_receive_a_live_transaction(stack: Stack) -> None:
    _node_modules()
    token, tenant, account = stack.signup()
    _, foreign, _ = stack.signup()
    node = shutil.which("node")
    assert node, "node is needed for the pusher-js test"
    proc = subprocess.Popen(
        [node, "listen.mjs", "127.0.0.1", str(stack.ws_port), stack.settings.pusher_key, stack.api, token, tenant],
        cwd=JS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "FOREIGN_TENANT": foreign},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        steps: list[dict[str, Any]] = []

        def until(step: str) -> dict[str, Any]:
            while True:
                line = proc.stdout.readline()  # type: ignore[union-attr]
                assert line, f"node ended early: {steps} {proc.stderr.read() if proc.stderr else ''}"
                steps.append(json.loads(line))
                if steps[-1]["step"] == step:
                    return steps[-1]
                assert steps[-1]["step"] not in ("timeout", "subscription_error", "connection_error"), steps

        until("subscribed")
        tx = {"account_id": account, "booked_on": "2026-11-20", "description": "PADARIA REAL", "amount": "-12.50"}
        created = httpx.post(f"{stack.api}/api/transactions", json=tx, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201, created.text
        event = until("event")["data"]
        assert event["name"] == "transaction.created"
        assert event["tenant_id"] == tenant
        assert event["payload"]["transaction_id"] == created.json()["id"]
        assert event["payload"]["amount_minor"] == -1250
        assert event["correlation_id"] == created.headers["x-request-id"]
        assert {"step": "foreign_refused", "status": 403} in steps
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.communicate(timeout=10)  # closes the pipes


@contextmanager
def _subscribed(stack: Stack, token: str, channel: str) -> Iterator[Any]:
    with connect(f"ws://127.0.0.1:{stack.ws_port}/app/{stack.settings.pusher_key}?protocol=7") as ws:
        hello = json.loads(ws.recv(5))
        socket_id = json.loads(hello["data"])["socket_id"]
        signed = httpx.post(f"{stack.api}/broadcasting/auth", data={"socket_id": socket_id, "channel_name": channel},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert signed.status_code == 200, signed.text
        ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": signed.json()["auth"]}}))
        assert json.loads(ws.recv(5))["event"] == "pusher_internal:subscription_succeeded"
        yield ws


def test_the_official_pusher_sdk_publishes_and_queries_channels(stack: Stack) -> None:
    token, tenant, _ = stack.signup()
    channel = f"private-tenant.{tenant}"
    host, port = stack.api.removeprefix("http://").split(":")
    sdk = pusher.Pusher(app_id=stack.settings.pusher_app_id, key=stack.settings.pusher_key, secret=SECRET,
                        host=host, port=int(port), ssl=False)  # fmt: skip
    with _subscribed(stack, token, channel) as ws:
        sdk.trigger(channel, "report.ready", {"report_id": "r1"})
        got = json.loads(ws.recv(5))
        assert (got["event"], got["channel"], json.loads(got["data"])) == ("report.ready", channel, {"report_id": "r1"})
        sdk.trigger_batch(
            [{"channel": channel, "name": "a", "data": "1"}, {"channel": channel, "name": "b", "data": "2"}]
        )
        assert [json.loads(ws.recv(5))["event"] for _ in range(2)] == ["a", "b"]
        time.sleep(1.5)  # occupancy is reported each second
        info = sdk.channels_info(prefix_filter="private-tenant.", attributes=["subscription_count"])
        assert info["channels"][channel] == {"subscription_count": 1}
        forged = pusher.Pusher(app_id=stack.settings.pusher_app_id, key=stack.settings.pusher_key, secret="wrong",
                               host=host, port=int(port), ssl=False)  # fmt: skip
        with pytest.raises(pusher.errors.PusherBadAuth):
            forged.trigger(channel, "x", {})
        with pytest.raises(pusher.errors.PusherBadRequest):
            sdk.trigger(channel, "pusher:fake", {})


def test_channel_authorization_is_limited_to_the_tokens_own_channels(stack: Stack) -> None:
    token, tenant, _ = stack.signup()
    _, other, _ = stack.signup()
    headers = {"Authorization": f"Bearer {token}"}

    def auth(channel: str, socket_id: str = "1.2", **extra: Any) -> httpx.Response:
        return httpx.post(f"{stack.api}/broadcasting/auth", data={"socket_id": socket_id, "channel_name": channel},
                          headers={**headers, **extra})  # fmt: skip

    assert auth(f"private-tenant.{tenant}").status_code == 200
    assert auth(f"private-tenant.{other}").status_code == 403
    assert auth("private-anything").status_code == 403
    assert auth(f"private-tenant.{tenant}", socket_id="bogus").status_code == 422
    assert auth(f"private-tenant.{tenant}", Authorization="Bearer nope").status_code == 401
    presence = auth(f"presence-tenant.{tenant}").json()
    member = json.loads(presence["channel_data"])
    assert member["user_info"]["name"] == "Ana"
