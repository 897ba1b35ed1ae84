"""What a write computed more than once, now made once (perf/README.md, "domaincpu"): an event's
JSON text, the stock categorizations, a name-based id's arithmetic, the embedder's norm (the same
bits), the in-process bus's records (none without a subscriber) and cache holds (by tenant)."""

from __future__ import annotations

import asyncio
import json
import math
import uuid

import pytest
from world import transaction_created

from valorize_adapters.embedders.hashing import HashingEmbedder, _bucket
from valorize_adapters.memory import InMemoryCache, InMemoryEventBus
from valorize_core.model.events import AccountBalanceChanged, DomainEvent
from valorize_core.model.transactions import Categorization, CategorizationSource
from valorize_core.runtime.tasks import task_id_for


def test_an_events_json_text_is_made_once_and_is_the_compact_json_of_its_record() -> None:
    event = transaction_created("PADARIA SÃO JOÃO")
    text = event.to_json()
    assert event.to_json() is text  # kept: the outbox, the bus and the realtime channel share it
    assert text == json.dumps(event.to_record(), separators=(",", ":"))
    assert json.loads(text) == event.to_record()


def test_a_record_handed_out_and_changed_leaves_the_json_text_alone() -> None:
    event = transaction_created("PADARIA SÃO JOÃO")
    record = event.to_record()
    record["payload"]["amount_minor"] = 1
    record["name"] = "changed"
    assert json.loads(event.to_json())["payload"]["amount_minor"] == -700
    assert json.loads(event.to_json())["name"] == "transaction.created"


def test_task_ids_are_what_they_were() -> None:
    tenant = uuid.UUID("0190b1e2-0000-7000-8000-000000000001")
    assert task_id_for("notify", tenant, "k") == uuid.uuid5(uuid.NAMESPACE_URL, f"valorize:{tenant}:notify:k")


def test_the_hashing_embedders_vectors_are_the_same_bits_as_summed_by_a_generator() -> None:
    embedder = HashingEmbedder()
    texts = ["PADARIA SÃO JOÃO 12", "Uber *trip", "x", "", "supermercado extra 0042 centro sp", "€ ç ã"]
    for text, vector in zip(texts, embedder.embed(texts), strict=True):
        reference = [0.0] * embedder.dimensions
        for feature, weight in embedder._features(text):
            bucket, sign = _bucket(feature, embedder.dimensions)
            reference[bucket] += sign * weight
        norm = math.sqrt(sum(v * v for v in reference))
        expected = [v / norm for v in reference] if norm else reference
        assert [v.hex() for v in vector] == [v.hex() for v in expected], text


def test_the_stock_categorizations_are_made_once() -> None:
    assert Categorization.none() is Categorization.none()
    assert Categorization.manual() is Categorization.manual()
    assert Categorization.none() == Categorization(CategorizationSource.NONE, Categorization.none().confidence,
                                                   "no rule, memory or neighbour matched")  # fmt: skip
    assert Categorization.manual().source == CategorizationSource.MANUAL
    assert str(Categorization.manual().confidence) == "1.000"
    assert Categorization.none("cleared").explanation == "cleared"  # any other explanation: its own


def test_the_bus_makes_no_record_for_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[DomainEvent] = []
    real = DomainEvent.to_record

    def counting(self: DomainEvent) -> dict[str, object]:
        made.append(self)
        return real(self)

    monkeypatch.setattr(DomainEvent, "to_record", counting)
    bus = InMemoryEventBus(kept=0)
    event = transaction_created("PADARIA SÃO JOÃO")
    balance = AccountBalanceChanged(event_id=uuid.uuid4(), tenant_id=event.tenant_id, occurred_at=event.occurred_at,
                                    account_id="a", balance_minor=1, currency="BRL")  # fmt: skip

    async def scenario() -> list[tuple[int, str]]:
        await bus.publish([event, balance])
        assert made == []  # an API process's bus has no subscriber
        subscriber = bus.subscriber()
        await subscriber.subscribe(event.tenant_id)
        await bus.publish([event, balance])
        await subscriber.close()
        return [(d.sequence, str(d.record["name"])) async for d in subscriber.deliveries()]

    assert asyncio.run(scenario()) == [(3, "transaction.created"), (4, "account.balance_changed")]
    assert made == [event, balance]


def test_the_memory_caches_holds_are_kept_by_tenant_and_dropped_when_expired() -> None:
    now = [1000.0]
    cache = InMemoryCache(clock=lambda: now[0])
    tenant, other = uuid.uuid4(), uuid.uuid4()

    async def scenario() -> None:
        assert await cache.bump_scopes(tenant, ["account:a", "*"], hold=10.0) == (1, 1)
        assert (await cache.lookup(tenant, "k", ["account:a"])).writing
        assert not (await cache.lookup(tenant, "k", ["account:b"])).writing
        assert not (await cache.lookup(other, "k", ["account:a"])).writing
        assert (await cache.lookup(tenant, "k", ["account:a", "account:b"])).scopes == (1, 0)
        now[0] += 11
        assert not (await cache.lookup(tenant, "k", ["account:a"])).writing
        assert await cache.bump_scopes(tenant, ["account:a", "*"]) == (2, 2)
        assert cache._held_until == {}  # the expired holds went with the bump that found them
        await cache.bump_tenant_version(tenant, hold=5.0)
        assert (await cache.lookup(tenant, "k", ["account:b"])).writing  # the tenant's own hold

    asyncio.run(scenario())
