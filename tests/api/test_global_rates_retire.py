"""Global exchange rates are every tenant's: importing them (the operator's CLI, in a unit of
no tenant) must retire the cached reads of every tenant that converts with them, on PostgreSQL
and a real Redis — else a converted report stays as it was until its TTL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from http_support import Api, app_client
from litestar.testing import TestClient

from valorize_core.model.rates import Rate
from valorize_core.use_cases.actions.set_rates import GivenRates, RateImport
from valorize_entrypoints.settings import Settings

# Global rates stay in the session's database: each test uses a year no other test has rates for.


def report(year: int) -> str:
    return f"/api/reports/spend_by_category?start={year}-03-01&end={year}-03-31&currency=USD"


def fresh(year: int) -> str:
    """The same read as :func:`report`, never cached (another query string)."""
    return f"/api/reports/spend_by_category?currency=USD&start={year}-03-01&end={year}-03-31"


def global_rates(year: int) -> RateImport:
    rates = tuple(
        Rate(base, quote, date(year, 3, 9), Decimal(value), "ecb")  # type: ignore[arg-type]
        for base, quote, value in (("EUR", "BRL", "6.25"), ("EUR", "USD", "1.25"))
    )
    return RateImport(None, GivenRates(rates, "ecb"))


def test_importing_global_rates_retires_every_tenants_converted_reports(cached: TestClient[Any]) -> None:
    api = Api(cached)
    account = api.account("Checking", currency="BRL")
    assert api.tx(account, "1961-03-10", "Groceries", "-50.00").status_code == 201
    before = api.get(report(1961))
    assert before.status_code == 200, before.text
    assert before.json()["missing_rates"], "no rate yet: the conversion misses one"
    assert api.get(report(1961)).json() == before.json()  # now cached

    vz = cached.app.state.runtime.app
    cached.blocking_portal.call(vz.import_rates, global_rates(1961))

    truth = api.get(fresh(1961)).json()
    assert not truth["missing_rates"], "the global rate is there: nothing is missing"
    after = api.get(report(1961))
    assert after.status_code == 200, after.text
    assert after.json() == truth
    assert after.headers["etag"] != before.headers["etag"]


@pytest.fixture
def other(database_url: str, redis_url: str) -> Iterator[TestClient[Any]]:
    """A second API process on the same database and Redis, with its own near cache."""
    settings = Settings(backend="postgres", database_url=database_url, db_pool_max=2, redis_url=redis_url)
    with app_client(settings) as client:
        yield client


def test_global_rates_imported_by_one_process_retire_what_another_keeps_near(
    cached: TestClient[Any], other: TestClient[Any]
) -> None:
    api = Api(cached)
    account = api.account("Checking", currency="BRL")
    assert api.tx(account, "1962-03-10", "Groceries", "-50.00").status_code == 201
    before = api.get(report(1962))
    assert before.json()["missing_rates"]
    assert api.get(report(1962)).json() == before.json()  # kept by this process too (its near cache)

    vz = other.app.state.runtime.app
    other.blocking_portal.call(vz.import_rates, global_rates(1962))

    truth = api.get(fresh(1962)).json()
    assert not truth["missing_rates"]
    deadline = time.monotonic() + 5  # the feed's message is on its way: a bounded wait, not a sleep
    while api.get(report(1962)).json() != truth:
        assert time.monotonic() < deadline, "the other process's import never retired the report"
        time.sleep(0.02)
