"""The dateutil recurrence engine: rules as a person expects them, and bounded work."""

from __future__ import annotations

import calendar
import itertools
import time
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_adapters.recurrence.rrule import DateutilRecurrence
from valorize_core.model.errors import ValidationError

engine = DateutilRecurrence()
starts = st.dates(date(2000, 1, 1), date(2090, 12, 31))
weekdays = st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1, max_size=7, unique=True)
rules = st.one_of(
    st.builds(lambda i: f"FREQ=DAILY;INTERVAL={i}", st.integers(1, 40)),
    st.builds(lambda i, d: f"FREQ=WEEKLY;INTERVAL={i};BYDAY={','.join(d)}", st.integers(1, 5), weekdays),
    st.builds(lambda i: f"FREQ=MONTHLY;INTERVAL={i}", st.integers(1, 13)),
    st.builds(lambda d: f"FREQ=MONTHLY;BYMONTHDAY={d}", st.integers(-31, 31).filter(bool)),
    st.builds(lambda d: f"FREQ=MONTHLY;BYDAY={','.join(d)};BYSETPOS=-1", weekdays),
    st.builds(
        lambda n, d: f"FREQ=MONTHLY;BYDAY={n}{d}", st.sampled_from([1, 2, 3, 4, -1]), st.sampled_from(["MO", "FR"])
    ),
    st.builds(lambda m, d: f"FREQ=YEARLY;BYMONTH={m};BYMONTHDAY={d}", st.integers(1, 12), st.integers(1, 31)),
    st.just("FREQ=YEARLY"),
    st.builds(lambda c: f"FREQ=MONTHLY;COUNT={c}", st.integers(1, 30)),
)


def accepted(rule: str, start: date) -> str | None:
    try:
        return engine.normalize(rule, start)
    except ValidationError:
        return None


@settings(max_examples=150, deadline=None)
@given(rules, starts, st.integers(0, 4000), st.integers(0, 800))
def test_occurrences_increase_strictly_within_bounds_and_are_stable(
    rule: str, start: date, skip: int, span: int
) -> None:
    normal = accepted(rule, start)
    if normal is None:
        return
    assert engine.normalize(normal, start) == normal  # normalizing is idempotent
    first = start + timedelta(days=skip)
    last = first + timedelta(days=span)
    found = engine.between(normal, start, first, last)
    assert all(a < b for a, b in itertools.pairwise(found))
    assert all(first <= d <= last and d >= start for d in found)
    assert engine.between(normal, start, first, last) == found  # re-evaluation gives the same dates
    middle = first + timedelta(days=span // 2)
    halves = engine.between(normal, start, first, middle) + engine.between(
        normal, start, middle + timedelta(days=1), last
    )
    assert halves == found  # a window evaluated in two parts gives the same dates


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 31), starts)
def test_monthly_on_a_day_falls_on_the_month_end_in_shorter_months(day: int, start: date) -> None:
    normal = engine.normalize(f"FREQ=MONTHLY;BYMONTHDAY={day}", start)
    first = date(start.year, start.month, 1) + timedelta(days=40)
    last = first + timedelta(days=800)
    found = engine.between(normal, start, first, last)
    months = {(d.year, d.month) for d in found}
    assert len(months) == len(found)  # one date a month
    for d in found:
        assert d.day == min(day, calendar.monthrange(d.year, d.month)[1])
    assert len(found) >= 25


@settings(max_examples=40, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)).map(lambda d: d.replace(day=1) - timedelta(days=1)))
def test_a_monthly_rule_starting_on_a_month_end_keeps_to_month_ends(start: date) -> None:
    if start.day < 29:
        return
    normal = engine.normalize("FREQ=MONTHLY", start)
    found = engine.between(normal, start, start, start + timedelta(days=400))
    assert len(found) == 14 or len(found) == 13
    for d in found[1:]:
        assert d.day == min(start.day, calendar.monthrange(d.year, d.month)[1])


@settings(max_examples=30, deadline=None)
@given(st.integers(2000, 2090))
def test_the_leap_day_falls_on_28_february_in_other_years(year: int) -> None:
    start = date(2000, 2, 29)
    normal = engine.normalize("FREQ=YEARLY", start)
    found = engine.between(normal, start, date(year, 1, 1), date(year + 7, 12, 31))
    assert [d.year for d in found] == list(range(year, year + 8))
    for d in found:
        assert (d.month, d.day) == ((2, 29) if calendar.isleap(d.year) else (2, 28))


@settings(max_examples=40, deadline=None)
@given(starts)
def test_last_business_day_is_the_last_weekday_of_each_month(start: date) -> None:
    normal = engine.normalize("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", start)
    found = engine.between(normal, start, start, start + timedelta(days=370))
    assert len(found) in (12, 13)
    for d in found:
        assert d.weekday() < 5
        later = [d + timedelta(days=k) for k in range(1, 4)]
        assert all(x.month != d.month or x.weekday() >= 5 for x in later)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=SECONDLY",
        "FREQ=MONTHLY;BYHOUR=3",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31;BYDAY=FR",
        "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=10",
        "FREQ=MONTHLY;BYDAY=6MO",
        "FREQ=DAILY;BYDAY=1MO",
        "FREQ=MONTHLY;COUNT=3;UNTIL=20300101",
        "FREQ=MONTHLY;UNTIL=20200101",
        "FREQ=MONTHLY;UNTIL=20300231",
        "FREQ=MONTHLY;INTERVAL=0",
        "FREQ=MONTHLY;FREQ=DAILY",
        "FREQ=MONTHLY;BYMONTHDAY=1x",
        "",
        "FREQ=MONTHLY;" + "BYMONTHDAY=1;" * 100,
    ],
)
def test_rules_that_are_unsupported_or_may_never_occur_are_refused(rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        engine.normalize(rule, date(2026, 1, 1))
    assert caught.value.errors[0].field == "rule"


def test_evaluation_is_bounded_for_every_accepted_rule() -> None:
    # A rule that never occurs costs dateutil a walk to the year 9999; none is accepted, and an
    # accepted rule evaluated far from its start stays cheap (CPU time, a loose bound).
    started = time.process_time()
    for rule in ["FREQ=DAILY", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"]:
        normal = engine.normalize(rule, date(2000, 1, 1))
        assert engine.between(normal, date(2000, 1, 1), date(2100, 1, 1), date(2100, 12, 31))
    assert time.process_time() - started < 2.0
