"""Recurrence engines: python-dateutil's ``rrule`` (the ``recurrence`` extra)."""

from __future__ import annotations

from valorize_core.ports.recurrence import RecurrenceEngine
from valorize_core.use_cases.context import NO_RECURRENCE

__all__ = ["default_recurrence_engine"]


def default_recurrence_engine() -> RecurrenceEngine:
    """dateutil's when ``python-dateutil`` is installed, else the core's engine that refuses
    every rule."""
    try:
        from valorize_adapters.recurrence.rrule import DateutilRecurrence
    except ImportError:
        return NO_RECURRENCE
    return DateutilRecurrence()
