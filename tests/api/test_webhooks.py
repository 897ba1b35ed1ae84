"""Outbound webhooks end to end: a receiver on loopback (allowed by the operator setting) gets
every subscribed event once, signed, survives being down for a while, and an endpoint failing
every attempt is disabled with a notification; redelivery, rotation and the SSRF guard."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api, run_background_tasks
from litestar.testing import TestClient

from http_receiver import Receiver
from valorize_core.model.webhooks import verify_signature
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failure_body=b"down for maintenance")
    yield r
    r.close()


@pytest.fixture(params=["memory", "postgres"])
def hooks_api(request: pytest.FixtureRequest) -> Iterator[Api]:
    allow = {"webhook_allowed_networks": "127.0.0.0/8", "webhook_retry_delays": "0,0,0"}
    if request.param == "memory":
        settings = Settings(backend="memory", **allow)  # type: ignore[arg-type]
    else:
        url = request.getfixturevalue("database_url")
        settings = Settings(backend="postgres", database_url=url, db_pool_max=4, **allow)  # type: ignore[arg-type]
    container = Container()
    container.settings.override(settings)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client)


def _webhook(api: Api, url: str, events: list[str]) -> dict[str, Any]:
    response = api.post("/api/webhooks", {"url": url, "event_types": events})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_every_event_once_signed_and_a_receiver_that_was_down_gets_it(hooks_api: Api, receiver: Receiver) -> None:
    api = hooks_api
    hook = _webhook(api, receiver.url, ["transaction.created"])
    account = api.account()
    receiver.failures = 2  # down for the first two calls: the third attempt gets through
    created = [api.tx(account, f"2026-11-0{d}", f"PADARIA {d}", "-1.00").json()["id"] for d in (1, 2, 3)]
    run_background_tasks(api.client)
    assert len(receiver.calls) == 3 + 2
    received = {json.loads(call.body)["id"] for call in receiver.calls if call.status == 200}
    assert len(received) == 3  # every event, once each (deduped on its id, as a receiver should)
    bodies = [json.loads(call.body) for call in receiver.calls]
    assert {b["type"] for b in bodies} == {"transaction.created"}
    assert sorted({b["data"]["transaction_id"] for b in bodies}) == sorted(created)
    for headers, body, _ in receiver.calls:
        assert verify_signature(headers["valorize-signature"], hook["secret"], body, int(time.time()))
        assert not verify_signature(headers["valorize-signature"], "whsec_wrong", body, int(time.time()))
        assert headers["valorize-event-id"] == json.loads(body)["id"]
    log = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()
    assert sorted(d["status"] for d in log) == ["succeeded"] * 3
    assert sum(d["attempts"] for d in log) == 5  # two of them retried after a 503
    run_background_tasks(api.client)  # nothing left to send
    assert len(receiver.calls) == 5


def test_sustained_failure_disables_the_endpoint_and_notifies(hooks_api: Api, receiver: Receiver) -> None:
    api = hooks_api
    hook = _webhook(api, receiver.url, ["*"])
    receiver.failures = 100
    account = api.account()
    api.tx(account, "2026-11-01", "PADARIA", "-1.00")
    run_background_tasks(api.client)
    endpoint = api.get("/api/webhooks").json()[0]
    assert endpoint["enabled"] is False
    assert "4 attempts failed" in endpoint["disabled_reason"]
    assert "503" in endpoint["disabled_reason"]
    failed = [d for d in api.get(f"/api/webhooks/{hook['id']}/deliveries").json() if d["status"] == "failed"]
    assert failed
    assert failed[0]["response_status"] == 503
    assert failed[0]["response_body"] == "down for maintenance"
    kinds = [n["kind"] for n in api.get("/api/notifications").json()]
    assert "webhook" in kinds
    calls = len(receiver.calls)
    api.tx(account, "2026-11-02", "PADARIA", "-1.00")  # disabled: nothing more is sent
    run_background_tasks(api.client)
    assert len(receiver.calls) == calls
    # the receiver is back: enable the endpoint and redeliver by hand
    receiver.failures = 0
    assert api.patch(f"/api/webhooks/{hook['id']}", {"enabled": True}).json()["disabled_reason"] == ""
    again = api.post(f"/api/webhooks/deliveries/{failed[0]['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert api.post(f"/api/webhooks/deliveries/{failed[0]['id']}/redeliver").status_code == 409  # still pending
    run_background_tasks(api.client)
    redelivered = {d["id"]: d for d in api.get(f"/api/webhooks/{hook['id']}/deliveries").json()}[failed[0]["id"]]
    assert (redelivered["status"], redelivered["redeliveries"]) == ("succeeded", 1)
    assert json.loads(receiver.calls[-1].body)["id"] == redelivered["event_id"]


def test_a_rotated_secret_and_the_previous_one_both_verify(hooks_api: Api, receiver: Receiver) -> None:
    api = hooks_api
    hook = _webhook(api, receiver.url, ["transaction.created"])
    rotated = api.post(f"/api/webhooks/{hook['id']}/rotate-secret").json()
    assert rotated["secret"] != hook["secret"]
    assert rotated["previous_secret_valid_until"] is not None
    api.tx(api.account(), "2026-11-01", "PADARIA", "-1.00")
    run_background_tasks(api.client)
    (headers, body, _), now = receiver.calls[-1], int(time.time())
    assert headers["valorize-signature"].count("v1=") == 2
    assert verify_signature(headers["valorize-signature"], rotated["secret"], body, now)
    assert verify_signature(headers["valorize-signature"], hook["secret"], body, now)
    assert not verify_signature(headers["valorize-signature"], rotated["secret"], body, now + 3600)  # replayed


def test_destinations_inside_the_network_are_refused_by_default(api: Api) -> None:
    for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.7/", "http://[::1]/", "http://[::ffff:192.168.0.1]/", "http://0.0.0.0/"):  # fmt: skip
        response = api.post("/api/webhooks", {"url": url, "event_types": ["*"]})
        assert response.status_code == 422, (url, response.text)
        assert "refused" in response.text
    for bad in ({"url": "ftp://example.com/", "event_types": ["*"]}, {"url": "https://u:p@example.com/",
                "event_types": ["*"]}, {"url": "https://example.com/", "event_types": ["nope"]}):  # fmt: skip
        assert api.post("/api/webhooks", bad).status_code in (400, 422), bad
    assert api.get("/api/webhooks").json() == []
