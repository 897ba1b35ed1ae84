"""``/metrics`` with one or several server processes (Prometheus' multiprocess mode).

With ``--workers N`` (N > 1) every granian worker is a process of its own, and a scrape reaches
one of them: alone, each would report its own counters. :func:`prepare_workers` (called by
``valorize api`` / ``valorize worker`` before the workers start) points
``PROMETHEUS_MULTIPROC_DIR`` at an empty folder and has the workers spawned fresh, so each
writes its samples there; :func:`registry` then aggregates every worker's counters and
histograms (sums), and gauges by their mode (requests in progress: the sum of live workers).
What only a process can read at scrape time (its caches: :data:`LOCAL`) is added as the
answering worker's own, labelled with its ``pid``.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

__all__ = ["LOCAL", "MULTIPROC_ENV", "multiprocess_mode", "prepare_workers", "registry"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LOCAL: list[Collector] = []  # collectors read in this process at scrape time (not aggregated)


def multiprocess_mode() -> bool:
    """Whether this process writes its samples for a multiprocess scrape."""
    return bool(os.environ.get(MULTIPROC_ENV))


def prepare_workers(workers: int) -> str | None:
    """Before starting ``workers`` server processes: multiprocess mode when there are several.

    Uses ``PROMETHEUS_MULTIPROC_DIR`` when set (its old ``*.db`` files are removed: they belong
    to processes that are gone), else a new temporary folder. Workers are spawned, not forked:
    a forked worker would keep this process's already imported, single-process metrics.
    """
    if workers <= 1:
        return None
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="valorize-metrics-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # made here, removed here
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = folder
    multiprocessing.set_start_method("spawn", force=True)
    return folder


class _WithPid(Collector):
    """A local collector's samples labelled with this process's id."""

    def __init__(self, inner: Collector) -> None:
        self._inner = inner

    def collect(self) -> Iterator[Metric]:
        pid = str(os.getpid())
        for metric in self._inner.collect():
            metric.samples = [s._replace(labels={**s.labels, "pid": pid}) for s in metric.samples]
            yield metric


def registry() -> CollectorRegistry:
    """What ``/metrics`` reports: this process's registry, or every worker's samples
    aggregated plus this worker's local readings."""
    if not multiprocess_mode():
        return REGISTRY
    aggregated = CollectorRegistry()
    multiprocess.MultiProcessCollector(aggregated)  # type: ignore[no-untyped-call]
    for collector in LOCAL:
        aggregated.register(_WithPid(collector))
    return aggregated
