"""Long loops that share the event loop with everything else the process serves.

A retroactive apply or a preview walks every transaction of a tenant, 100,000 of them or more.
Done in one go on the event loop, no other request (of any tenant, ``/health`` included) is
served until it ends. :func:`cooperatively` hands the loop back every few milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

__all__ = ["SLICE_SECONDS", "cooperatively"]

T = TypeVar("T")

SLICE_SECONDS = 0.005


async def cooperatively(items: Iterable[T], slice_seconds: float = SLICE_SECONDS) -> AsyncIterator[T]:
    """``items`` one by one, letting other tasks run whenever ``slice_seconds`` have passed."""
    deadline = time.perf_counter() + slice_seconds
    for item in items:
        yield item
        if time.perf_counter() >= deadline:
            await asyncio.sleep(0)
            deadline = time.perf_counter() + slice_seconds
