"""The garbage collector of a serving process: tuned once its startup is built, its pauses counted.

CPython's cyclic collector runs a young-generation pass every ``threshold0`` net allocations of
container objects (700 by default) and walks every object older passes kept (its full passes walk
the whole heap). A serving process keeps hundreds of thousands of long-lived objects (modules,
the app and its schema, the container, caches, a batch's memos) and makes thousands of short-lived
ones per request, nearly all freed by reference counting without the collector. So each role
(``api``, ``worker``, ``dev``, ``realtime``) calls :func:`tune_collector` once its startup is built:

- ``gc.freeze()`` moves everything alive then to a permanent generation the collector never walks
  again (the technique Instagram published; full passes used to cost the API's P99);
- the generation-0 threshold is raised to ``VALORIZE_GC_THRESHOLD`` (generations 1 and 2 keep
  their ratios): fewer passes per request and per batch row, each about as cheap, because
  what a pass walks is what survived since the last one. Cycles are still collected, so memory
  stays bounded (measured in perf/README.md, "The collector's share").

``VALORIZE_GC_THRESHOLD=0`` leaves Python's collector as it is (nothing frozen, 700/10/10).
The passes and their seconds are on ``/metrics`` (``valorize_gc_passes_total``,
``valorize_gc_pause_seconds_total``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from valorize_entrypoints.metrics import LOCAL

__all__ = ["PASSES", "count_passes", "tune_collector"]


class _Passes(Collector):
    """This process's collector passes and their seconds, per generation, kept in plain numbers
    by a ``gc.callbacks`` hook and read at scrape time (a metric's lock taken inside a pass could
    be the lock the interrupted code holds)."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.cpu_seconds = 0.0  # this process's CPU in passes (the benchmarks: wall time counts preemption)
        self._started = self._cpu = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started, self._cpu = time.perf_counter(), time.process_time()
        else:
            generation = info["generation"]
            self.counts[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._started
            self.cpu_seconds += time.process_time() - self._cpu

    def collect(self) -> Iterator[Metric]:
        passes = CounterMetricFamily("valorize_gc_passes", "Cyclic garbage collector passes", labels=["generation"])
        seconds = CounterMetricFamily(
            "valorize_gc_pause_seconds", "Seconds in cyclic garbage collector passes", labels=["generation"]
        )
        for generation in range(3):
            passes.add_metric([str(generation)], self.counts[generation])
            seconds.add_metric([str(generation)], self.seconds[generation])
        yield passes
        yield seconds
        threshold = GaugeMetricFamily("valorize_gc_threshold", "The collector's thresholds", labels=["generation"])
        for generation, value in enumerate(gc.get_threshold()):
            threshold.add_metric([str(generation)], value)
        yield threshold
        yield GaugeMetricFamily("valorize_gc_frozen_objects", "Objects frozen at startup", value=gc.get_freeze_count())


PASSES = _Passes()
REGISTRY.register(PASSES)
LOCAL.append(PASSES)  # with several workers, each answers with its own (labelled with its pid)


def count_passes() -> None:
    """Count this process's collector passes and their time (idempotent)."""
    if PASSES not in gc.callbacks:
        gc.callbacks.append(PASSES)


def tune_collector(threshold: int) -> None:
    """Freeze what startup built and set the generation-0 threshold; ``threshold`` 0: leave the
    collector as Python set it. Call once the role's long-lived objects exist."""
    count_passes()
    if threshold <= 0:
        return
    gc.collect()  # what startup left as garbage is not frozen with the rest
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
