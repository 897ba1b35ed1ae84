"""Every per-process cache on ``/metrics``: how many entries it holds and its bound.

Each cache a process keeps is bounded (an LRU size or a byte budget); these gauges show that
they level off under load (``valorize_process_cache_entries`` against
``valorize_process_cache_capacity``, by ``cache``). The near cache, bounded in bytes, has its
own gauges (``valorize_near_cache_*``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from valorize_adapters.embedders.hashing import feature_cache_size
from valorize_adapters.postgres.rows import category_id_cache_size
from valorize_core.model.payee_words import word_similarity, words
from valorize_core.model.payees import payee_key
from valorize_entrypoints.metrics import LOCAL

__all__ = ["PROCESS_CACHES", "ProcessCaches"]

Size = Callable[[], tuple[int, int]]


def _lru(cached: Any) -> Size:
    """The size of a ``functools.lru_cache``."""

    def size() -> tuple[int, int]:
        info = cached.cache_info()
        return info.currsize, info.maxsize or 0

    return size


class ProcessCaches(Collector):
    """The caches of this process by name, read at scrape time (a later one of the same name
    replaces the earlier: the runtime built last is the one serving)."""

    def __init__(self) -> None:
        self._sizes: dict[str, Size] = {
            "payee_key": _lru(payee_key),
            "payee_words": _lru(words),
            "word_similarity": _lru(word_similarity),
            "embedding_features": feature_cache_size,
            "category_id": category_id_cache_size,
        }

    def track(self, name: str, size: Size) -> None:
        """Report the cache ``name`` with ``size`` (entries, bound)."""
        self._sizes[name] = size

    def sizes(self) -> dict[str, tuple[int, int]]:
        """Entries and bound of every tracked cache."""
        return {name: size() for name, size in self._sizes.items()}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        entries = GaugeMetricFamily(
            "valorize_process_cache_entries", "Entries in a per-process cache", labels=["cache"]
        )
        capacity = GaugeMetricFamily(
            "valorize_process_cache_capacity", "Bound of a per-process cache", labels=["cache"]
        )
        for name, (held, bound) in self.sizes().items():
            entries.add_metric([name], held)
            capacity.add_metric([name], bound)
        yield entries
        yield capacity


PROCESS_CACHES = ProcessCaches()
REGISTRY.register(PROCESS_CACHES)
LOCAL.append(PROCESS_CACHES)
