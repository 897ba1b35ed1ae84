"""The correlation id: the request id of the HTTP call that started a chain of work.

The API sets it for each request; every event recorded while it is set carries it; the relay
copies it onto the follow-up tasks; the worker sets it again while a task runs, so the task's
logs and its own events carry the id of the request that caused them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["correlated", "current_correlation_id"]

_current: ContextVar[str | None] = ContextVar("valorize_correlation_id", default=None)


def current_correlation_id() -> str | None:
    """The id of the request (or task) this code runs for, if any."""
    return _current.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Run a block on behalf of ``correlation_id`` (``None`` keeps the current one)."""
    if correlation_id is None:
        yield
        return
    token = _current.set(correlation_id)
    try:
        yield
    finally:
        _current.reset(token)
