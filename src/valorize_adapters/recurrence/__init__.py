"""Recurrence rules evaluated by python-dateutil's ``rrule``."""

from valorize_adapters.recurrence.rrule import DateutilRecurrence

__all__ = ["DateutilRecurrence"]
