"""A write's events are encoded once: the outbox row, the event bus (Redis) and the realtime
channel carry the same JSON text of each (perf/README.md, "domaincpu"); each was encoded anew."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_core.model.events import EVENT_TYPES


def test_a_writes_events_are_encoded_once_and_stored_as_published(
    cached: TestClient[Any], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Api(cached)
    account = api.account()
    encoded: list[tuple[str, str]] = []
    real = json.JSONEncoder.encode

    def counting(self: json.JSONEncoder, o: Any) -> str:
        text = real(self, o)
        if isinstance(o, dict) and o.get("name") in EVENT_TYPES:
            encoded.append((o["id"], text))
        return text

    monkeypatch.setattr(json.JSONEncoder, "encode", counting)
    with psycopg.connect(database_url) as conn:
        query = "SELECT id::text, payload FROM outbox WHERE tenant_id = %s"
        before = {row[0] for row in conn.execute(query, (api.tenant_id,))}
        response = api.tx(account, "2026-03-01", "Padaria São João", "-12.50")
        assert response.status_code == 201, response.text
        stored = {row[0]: row[1] for row in conn.execute(query, (api.tenant_id,)) if row[0] not in before}
    names = [json.loads(text)["name"] for _, text in encoded]
    assert sorted(names) == ["account.balance_changed", "transaction.created"]
    assert len({event_id for event_id, _ in encoded}) == len(encoded)  # each event's text made once
    assert {event_id for event_id, _ in encoded} == set(stored)  # the outbox's rows: the same events
    for event_id, text in encoded:
        assert json.loads(text)["payload"] == stored[event_id]  # stored as published
