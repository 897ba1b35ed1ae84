"""Pusher webhooks end to end: ``valorize dev --memory`` as a subprocess, configured by the
operator's variables; a real WebSocket client subscribes (a presence subscription signed by the
official ``pusher`` SDK), sends a client event and leaves; the realtime server's batches go
through the task queue to the worker and reach a receiver, which checks each with the SDK's
``validate_webhook``. The receiver is down for its first call: the queue sends it again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pusher
import pytest
from websockets.sync.client import connect

from http_receiver import PusherReceiver
from valorize_entrypoints.testing import dev_serving

pytestmark = pytest.mark.slow

SECRET = "e2e-webhook-secret"
KEY = "valorize-key"


def _wait(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_dev_sends_signed_batched_pusher_webhooks_through_the_task_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk = pusher.Pusher(app_id="100001", key=KEY, secret=SECRET)
    receiver = PusherReceiver(sdk, "/pusher/webhooks", failures=1, failure_status=500)
    operator = {  # dev_serving passes on the environment
        "VALORIZE_PUSHER_SECRET": SECRET, "VALORIZE_PUSHER_KEY": KEY, "VALORIZE_REALTIME_CLIENT_EVENTS": "true",
        "VALORIZE_PUSHER_WEBHOOK_URLS": receiver.url, "VALORIZE_PUSHER_WEBHOOK_WINDOW": "0.3",
        "VALORIZE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",  # the receiver is on loopback
    }  # fmt: skip
    for name, value in operator.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("VALORIZE_REDIS_URL", raising=False)
    try:
        with dev_serving(tmp_path, memory=True, startup_seconds=60) as dev:
            with connect(f"ws://127.0.0.1:{dev.realtime_port}/app/{KEY}?protocol=7&client=e2e") as ws:
                socket_id = json.loads(json.loads(ws.recv(timeout=5))["data"])["socket_id"]
                channel, member = "presence-desk", {"user_id": "ana", "user_info": {"name": "Ana"}}
                signed = sdk.authenticate(channel=channel, socket_id=socket_id, custom_data=member)
                ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, **signed}}))
                assert json.loads(ws.recv(timeout=5))["event"] == "pusher_internal:subscription_succeeded"
                ws.send(json.dumps({"event": "client-typing", "channel": channel, "data": {"on": True}}))
                _wait(lambda: len(receiver.events()) >= 3, f"no webhooks: {receiver.calls}")
            _wait(lambda: len(receiver.events()) >= 5, f"no vacated: {receiver.calls}")

            assert receiver.calls[0].status == 500
            assert receiver.calls[1].body == receiver.calls[0].body  # the same batch again
            events = receiver.events()
            assert events[:3] == [
                {"name": "channel_occupied", "channel": channel},
                {"name": "member_added", "channel": channel, "user_id": "ana"},
                {"name": "client_event", "channel": channel, "event": "client-typing", "data": '{"on": true}',
                 "socket_id": socket_id, "user_id": "ana"},
            ]  # fmt: skip
            assert events[3:] == [{"name": "member_removed", "channel": channel, "user_id": "ana"},
                                  {"name": "channel_vacated", "channel": channel}]  # fmt: skip
            # a forged body is refused by the same validator
            headers, body, _ = receiver.calls[-1]
            forged = body.decode().replace("ana", "eve")
            assert sdk.validate_webhook(KEY, headers["x-pusher-signature"], forged) is None
    finally:
        receiver.close()
