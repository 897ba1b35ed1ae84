"""Global exchange rates are every tenant's: importing them (the operator's CLI, in a unit of
no tenant) must retire the cached reads of every tenant that converts with them, on PostgreSQL
and a real Redis — else a converted report stays as it was until its TTL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_core.model.rates import Rate
from valorize_core.use_cases.actions.set_rates import GivenRates, RateImport
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

REPORT = "/api/reports/spend_by_category?start=2026-03-01&end=2026-03-31&currency=USD"
FRESH = "/api/reports/spend_by_category?currency=USD&start=2026-03-01&end=2026-03-31"  # same read, never cached


@pytest.fixture
def cached(database_url: str, redis_url: str) -> Iterator[TestClient[Any]]:
    container = Container()
    settings = Settings(backend="postgres", database_url=database_url, db_pool_max=4, redis_url=redis_url)
    container.settings.override(settings)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def test_importing_global_rates_retires_every_tenants_converted_reports(cached: TestClient[Any]) -> None:
    api = Api(cached)
    account = api.account("Checking", currency="BRL")
    assert api.tx(account, "2026-03-10", "Groceries", "-50.00").status_code == 201
    before = api.get(REPORT)
    assert before.status_code == 200, before.text
    assert before.json()["missing_rates"], "no rate yet: the conversion misses one"
    assert api.get(REPORT).json() == before.json()  # now cached

    rates = tuple(
        Rate(base, quote, date(2026, 3, 9), Decimal(value), "ecb")  # type: ignore[arg-type]
        for base, quote, value in (("EUR", "BRL", "6.25"), ("EUR", "USD", "1.25"))
    )
    vz = cached.app.state.runtime.app
    cached.blocking_portal.call(vz.import_rates, RateImport(None, GivenRates(rates, "ecb")))

    truth = api.get(FRESH).json()
    assert not truth["missing_rates"], "the global rate is there: nothing is missing"
    after = api.get(REPORT)
    assert after.status_code == 200, after.text
    assert after.json() == truth
    assert after.headers["etag"] != before.headers["etag"]
