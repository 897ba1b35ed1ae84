"""Every per-process cache is bounded and reported on ``/metrics`` with its bound."""

from __future__ import annotations

import re
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_adapters.memory.events import InMemoryEventBus
from valorize_core.model.payees import payee_key
from valorize_entrypoints.container import Container
from valorize_entrypoints.process_caches import PROCESS_CACHES
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.worker import create_worker_app


def _gauges(text: str, name: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(rf'^{name}{{cache="([a-z_]+)"}} (\S+)$', text, re.M)}


def test_metrics_show_each_cache_and_its_bound(client: TestClient[Any]) -> None:
    api = Api(client)
    account = api.account()
    assert api.tx(account, "2026-03-02", f"PADARIA {id(client)}", "-9.00").status_code == 201
    text = client.get("/metrics").text
    entries = _gauges(text, "valorize_process_cache_entries")
    capacity = _gauges(text, "valorize_process_cache_capacity")
    assert {"payee_key", "payee_words", "word_similarity", "embedding_features", "category_id", "tokens",
            "read_cache"} <= entries.keys()  # fmt: skip
    assert entries.keys() == capacity.keys()
    assert entries["payee_key"] >= 1
    assert entries["tokens"] >= 1  # the owner's token, looked up by this request
    assert capacity["payee_key"] == payee_key.cache_info().maxsize
    assert all(capacity[name] > 0 for name in capacity)
    assert all(entries[name] <= capacity[name] for name in entries)


def test_the_payee_key_cache_levels_off_at_its_bound() -> None:
    bound = payee_key.cache_info().maxsize
    assert bound is not None
    for i in range(bound + 100):
        payee_key(f"COMPRA {i}")
    held, capacity = PROCESS_CACHES.sizes()["payee_key"]
    assert (held, capacity) == (bound, bound)


def test_the_worker_shows_its_caches_on_metrics(database_url: str) -> None:
    """The worker role (where imports fill the categorizer's caches) answers ``/metrics`` too."""
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, db_pool_max=2,
                                         worker_secret="s3cret"))  # fmt: skip
    with TestClient(create_worker_app(container)) as worker:
        answer = worker.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    entries = _gauges(answer.text, "valorize_process_cache_entries")
    assert {"payee_key", "payee_words", "word_similarity", "embedding_features", "category_id"} <= entries.keys()


def test_the_in_process_event_bus_keeps_no_published_event(client: TestClient[Any]) -> None:
    """A role without Redis publishes through the in-process bus: it keeps none of the events
    (it kept every one, so each import left its events alive for the process's life)."""
    api = Api(client)
    account = api.account()
    assert api.tx(account, "2026-03-02", "PADARIA REAL", "-9.00").status_code == 201
    bus = client.app.state.runtime.bus
    assert isinstance(bus, InMemoryEventBus)
    assert len(bus.published) == 0
