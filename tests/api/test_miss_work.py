"""A list miss does only the product's work (issue 24 item 2): counts of what it must not do.

Each of these counted work that a list miss did for nothing: its read scopes worked out where
nobody looks them up, a dict built for every row of the page only to be taken apart, and
Litestar's reading of the route's parameters and dependencies one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api, app_client
from litestar._kwargs import KwargsModel
from litestar.testing import TestClient

from valorize_adapters.postgres import session as pg_session
from valorize_entrypoints.api import caching, fast_reads
from valorize_entrypoints.settings import Settings


@pytest.fixture
def scopes_worked_out(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The query strings whose read scopes were worked out."""
    seen: list[str] = []
    original = caching.read_scopes

    def counting(name: str, path: str, query_string: bytes) -> tuple[str, ...]:
        seen.append(query_string.decode())
        return original(name, path, query_string)

    monkeypatch.setattr(caching, "read_scopes", counting)
    monkeypatch.setattr(fast_reads, "read_scopes", counting)  # the cached-read layer's own import
    return seen


@pytest.fixture
def uncached(database_url: str) -> Iterator[TestClient[Any]]:
    with app_client(Settings(backend="postgres", database_url=database_url, db_pool_max=4, cache=False)) as client:
        yield client


def test_a_miss_works_out_its_read_scopes_once(cached: TestClient[Any], scopes_worked_out: list[str]) -> None:
    """The cached-read layer looks the read up (its scopes, once); the route computes what it
    missed without working them out again; then the read is a hit."""
    api = Api(cached)
    account = api.account()
    api.tx(account, "2026-03-01", "Padaria", "-12.50")
    query = f"account_id={account}&limit=10"
    first = api.get(f"/api/transactions?{query}")
    assert scopes_worked_out == [query]
    assert api.get(f"/api/transactions?{query}").content == first.content
    assert scopes_worked_out == [query, query]  # the hit: looked up once more, in the layer


def test_without_a_cache_no_read_scopes_are_worked_out(uncached: TestClient[Any], scopes_worked_out: list[str]) -> None:
    api = Api(uncached)
    account = api.account()
    api.tx(account, "2026-03-01", "Padaria", "-12.50")
    page = api.get(f"/api/transactions?account_id={account}&limit=10").json()
    assert [item["description"] for item in page["items"]] == ["Padaria"]
    assert scopes_worked_out == []


def test_a_page_makes_no_dict_of_its_rows(uncached: TestClient[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's rows are made views by the cursor (``rows.transaction_views``): the session's
    dict rows are made for the other reads (the token, none here once it is known) only."""
    api = Api(uncached)
    account = api.account()
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        api.tx(account, day, "Padaria", "-12.50")
    api.get(f"/api/transactions?account_id={account}&limit=2")  # the token known, the statement prepared
    made: list[int] = []
    original = pg_session.dict_row

    def counting(cursor: Any) -> Any:
        make = original(cursor)
        return lambda values: made.append(1) or make(values)

    monkeypatch.setattr(pg_session, "dict_row", counting)
    page = api.get(f"/api/transactions?account_id={account}&limit=2").json()
    assert [item["booked_on"] for item in page["items"]] == ["2026-03-03", "2026-03-02"]
    assert page["next_cursor"]
    assert made == []


def test_a_well_formed_list_query_is_read_in_one_conversion(
    uncached: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list route is answered by the route check (``filters.page_query``): Litestar neither
    reads its thirteen parameters nor resolves its four dependencies; a query the conversion does
    not take (``limit=0``) goes to Litestar, which refuses it as it always did."""
    api = Api(uncached)
    account = api.account()
    api.tx(account, "2026-03-01", "Padaria", "-12.50")
    read: list[int] = []
    original = KwargsModel.to_kwargs

    async def counting(self: KwargsModel, connection: Any) -> dict[str, Any]:
        read.append(1)
        return await original(self, connection)

    monkeypatch.setattr(KwargsModel, "to_kwargs", counting)
    page = api.get(f"/api/transactions?account_id={account}&limit=10&tag_match=any")
    assert [item["description"] for item in page.json()["items"]] == ["Padaria"]
    assert read == []
    refused = api.get(f"/api/transactions?account_id={account}&limit=0")
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [{"field": "limit", "message": "Expected `int` >= 1"}]
    assert read == [1]
