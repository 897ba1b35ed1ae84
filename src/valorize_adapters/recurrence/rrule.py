"""RFC 5545 RRULE text, checked and normalized here, evaluated by python-dateutil's ``rrule``.

What a person expects, where RFC 5545 says otherwise:

- **month end**: "monthly on the 31st" (``BYMONTHDAY=31``, or a monthly rule starting on the
  31st) means the last day in shorter months, not "skip them": a lone day 29–31 becomes
  ``BYMONTHDAY=28,…,d;BYSETPOS=-1`` (the latest of those days the month has).
- **leap day**: "yearly on 29 February" falls on 28 February in other years, the same way.
- **last business day**: ``FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1`` works as written.

Bounded work: dateutil walks period by period until it finds a date, up to the year 9999, so a
rule that can never occur ("30 February") would cost seconds on every evaluation. Only the
parts below are accepted, and :meth:`DateutilRecurrence.normalize` refuses the combinations that
may never occur, so every accepted rule occurs within a few decades (weekdays repeat every 28
years) and an evaluation is cut at the window's end.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from dateutil.rrule import rrulestr

from valorize_core.model.errors import ValidationError
from valorize_core.ports.recurrence import MAX_OCCURRENCES

__all__ = ["DateutilRecurrence"]

_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_INT = re.compile(r"[+-]?\d{1,4}")
_UNTIL = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T\d{6}Z?)?")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February at its longest
_MAX_LEN = 500


def _bad(message: str) -> ValidationError:
    return ValidationError.for_field("rule", message)


def _ints(value: str, part: str, low: int, high: int, *, signed: bool = False) -> list[int]:
    out = []
    for item in value.split(","):
        if not _INT.fullmatch(item):
            raise _bad(f"{part} must be a list of integers")
        n = int(item)
        if not (low <= abs(n) <= high if signed else low <= n <= high) or n == 0:
            raise _bad(f"{part} values must be between {'-' if signed else ''}{high if signed else low} and {high}")
        out.append(n)
    return sorted(set(out))


def _parse(rule: object) -> dict[str, str]:
    if not isinstance(rule, str) or not rule.strip():
        raise _bad("must be an RRULE such as FREQ=MONTHLY;BYMONTHDAY=1")
    if len(rule) > _MAX_LEN:
        raise _bad(f"must be at most {_MAX_LEN} characters")
    text = rule.strip().upper()
    text = text.removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        name, sep, value = item.partition("=")
        if not sep or not value or not name:
            raise _bad(f"{item!r} is not NAME=VALUE")
        if name in parts:
            raise _bad(f"{name} is given twice")
        parts[name] = value
    return parts


class DateutilRecurrence:
    """The :class:`~valorize_core.ports.recurrence.RecurrenceEngine` of dateutil."""

    def normalize(self, rule: str, starts_on: date) -> str:
        parts = _parse(rule)
        allowed = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
        unknown = sorted(set(parts) - allowed)
        if unknown:
            raise _bad(f"unsupported part {unknown[0]} (use FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, "
                       "BYMONTH, BYSETPOS, WKST)")  # fmt: skip
        freq = parts.get("FREQ")
        if freq not in _FREQS:
            raise _bad("FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
        out: dict[str, str] = {"FREQ": freq}
        if "INTERVAL" in parts:
            out["INTERVAL"] = str(_ints(parts["INTERVAL"], "INTERVAL", 1, 999)[0])
        if "COUNT" in parts and "UNTIL" in parts:
            raise _bad("give COUNT or UNTIL, not both")
        if "COUNT" in parts:
            out["COUNT"] = str(_ints(parts["COUNT"], "COUNT", 1, 9999)[0])
        if "UNTIL" in parts:
            m = _UNTIL.fullmatch(parts["UNTIL"])
            try:
                until = date(int(m[1]), int(m[2]), int(m[3])) if m else None
            except ValueError:
                until = None
            if until is None:
                raise _bad("UNTIL must be a date such as 20271231")
            if until < starts_on:
                raise _bad("UNTIL is before the start")
            out["UNTIL"] = until.strftime("%Y%m%d")
        if "WKST" in parts:
            if parts["WKST"] not in _DAYS:
                raise _bad("WKST must be a weekday (MO, TU, ...)")
            out["WKST"] = parts["WKST"]
        months = _ints(parts["BYMONTH"], "BYMONTH", 1, 12) if "BYMONTH" in parts else []
        monthdays = _ints(parts["BYMONTHDAY"], "BYMONTHDAY", 1, 31, signed=True) if "BYMONTHDAY" in parts else []
        days = self._days(parts.get("BYDAY"), freq, months)
        setpos = _ints(parts["BYSETPOS"], "BYSETPOS", 1, 366, signed=True) if "BYSETPOS" in parts else []
        if freq in ("MONTHLY", "YEARLY") and not monthdays and not days:
            # dateutil takes the day (and, yearly, the month) from the start: say so, so that
            # the month-end rule below applies to a rule that starts on the 31st as well.
            monthdays = [starts_on.day]
            if freq == "YEARLY" and not months:
                months = [starts_on.month]
        self._feasible(months, monthdays, days)
        if setpos:
            self._setpos_feasible(freq, setpos, months, monthdays, days)
        if len(monthdays) == 1 and monthdays[0] > 28 and not days and not setpos and freq in ("MONTHLY", "YEARLY"):
            monthdays, setpos = list(range(28, monthdays[0] + 1)), [-1]  # month end, leap day
        if months:
            out["BYMONTH"] = ",".join(map(str, months))
        if monthdays:
            out["BYMONTHDAY"] = ",".join(map(str, monthdays))
        if days:
            out["BYDAY"] = ",".join(days)
        if setpos:
            out["BYSETPOS"] = ",".join(map(str, setpos))
        order = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST")
        return ";".join(f"{k}={out[k]}" for k in order if k in out)

    @staticmethod
    def _days(value: str | None, freq: str, months: list[int]) -> list[str]:
        if value is None:
            return []
        out = []
        for item in value.split(","):
            m = _DAY.fullmatch(item)
            if not m:
                raise _bad("BYDAY must be weekdays such as MO,FR or -1FR")
            if m[1] is not None:
                n = int(m[1])
                # An ordinal weekday exists in every month up to the 4th (and a 5th in some month
                # of every 28 years); in a year, up to the 52nd.
                limit = 5 if freq == "MONTHLY" or months else 52
                if freq not in ("MONTHLY", "YEARLY") or n == 0 or abs(n) > limit:
                    raise _bad(f"BYDAY ordinal {item} is out of range for FREQ={freq}")
                out.append(f"{n}{m[2]}")
            else:
                out.append(m[2])
        return sorted(set(out), key=lambda d: (_DAYS.index(d[-2:]), d))

    @staticmethod
    def _feasible(months: list[int], monthdays: list[int], days: list[str]) -> None:
        if monthdays:
            longest = max(_MONTH_DAYS[m - 1] for m in months) if months else 31
            if all(abs(d) > longest for d in monthdays):
                raise _bad("BYMONTHDAY names no day of the months given")
            if any(d[:-2] for d in days):
                raise _bad("BYDAY ordinals cannot be combined with BYMONTHDAY")
            # Days up to 28 exist in every month; a day 29–31 with more than one day or with
            # weekdays cannot be rewritten to the month's end, so it is kept only if it exists
            # in at least one month listed (it does, checked above), and weekdays repeat on
            # every date within 28 years: the rule occurs.

    @staticmethod
    def _setpos_feasible(
        freq: str, setpos: list[int], months: list[int], monthdays: list[int], days: list[str]
    ) -> None:
        if any(d[:-2] for d in days):
            raise _bad("BYSETPOS cannot be combined with BYDAY ordinals")
        # The fewest candidate dates a period is guaranteed to have; a position beyond it may
        # never be filled.
        if freq == "WEEKLY" and days and not monthdays and not months:
            fewest = len(days)
        elif freq == "MONTHLY" and days and not monthdays:
            fewest = 4 * len(days)
        elif freq == "MONTHLY" and monthdays and not days:
            fewest = sum(1 for d in monthdays if abs(d) <= 28)
        elif freq == "YEARLY" and monthdays and not days:
            fewest = sum(1 for d in monthdays if abs(d) <= 28) * (len(months) or 12)
        else:
            raise _bad("BYSETPOS is accepted with BYDAY in WEEKLY or MONTHLY rules, or with BYMONTHDAY alone")
        if max(abs(p) for p in setpos) > fewest:
            raise _bad(f"BYSETPOS may name at most position {fewest} of this rule's dates")

    def between(self, rule: str, starts_on: date, first: date, last: date, limit: int = MAX_OCCURRENCES) -> list[date]:
        if last < first or last < starts_on:
            return []
        start = datetime.combine(starts_on, time())
        parts = _parse(rule)
        until = datetime.combine(last, time())
        if "UNTIL" in parts:
            # the window's end cuts the walk short; the rule's own end still applies
            own = datetime.strptime(parts.pop("UNTIL"), "%Y%m%d")
            until = min(until, own)
        if "COUNT" not in parts:
            parts["UNTIL"] = until.strftime("%Y%m%d")
        text = ";".join(f"{k}={v}" for k, v in parts.items())
        found: list[date] = []
        for moment in rrulestr(text, dtstart=start):
            day = moment.date()
            if day > last:
                break
            if day >= first:
                found.append(day)
                if len(found) >= min(limit, MAX_OCCURRENCES):
                    break
        return found
