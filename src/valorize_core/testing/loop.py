"""One event loop on a background thread, shared by synchronous tests.

Async adapters (a Postgres pool, a Redis client) belong to the loop that created them. Tests
that are plain functions — and Hypothesis state machines, which are synchronous — run their
coroutines on this one loop, so a pool created once serves every test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopRunner", "run"]

T = TypeVar("T")


class LoopRunner:
    """An event loop running forever on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="valorize-test-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """Run ``coro`` on the loop and wait for its result (its exception is raised here)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


_shared: LoopRunner | None = None
_lock = threading.Lock()


def run(coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
    """Run ``coro`` on the process-wide test loop."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = LoopRunner()
    return _shared.run(coro, timeout)
