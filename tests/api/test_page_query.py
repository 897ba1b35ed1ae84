"""The list route's query string read in one conversion (``filters.page_query``, answered by the
route check) reads every query as Litestar reads the route's declared parameters: the same page,
or the same error (a query the conversion does not take goes to Litestar, which refuses it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from http_support import Api, app_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.handlers.http_handlers import HTTPRouteHandler

from valorize_entrypoints.api.filters import PageQuery, page_query
from valorize_entrypoints.api.query_params import declared_query
from valorize_entrypoints.api.route_checks import ANSWER
from valorize_entrypoints.settings import Settings


class Tenant:
    """A memory-backed API, a tenant with two accounts, tagged and categorized rows, and a switch
    between the route's two readings of its query string."""

    def __init__(self, api: Api, handler: HTTPRouteHandler) -> None:
        self.api, self.handler, self.answer = api, handler, handler.opt[ANSWER]
        self.a, self.b = api.account("A"), api.account("B")
        self.food = api.category("Food")
        for n in range(7):
            extra: dict[str, Any] = {"tags": ["trip", "work"][: n % 3]}
            if n % 2:
                extra["category_id"] = self.food
            made = api.tx(self.a if n % 3 else self.b, f"2026-01-0{n + 1}", f"Padaria {n}", f"-{n + 1}.50", **extra)
            assert made.status_code == 201, made.text
        self.cursor = api.get("/api/transactions?limit=2").json()["next_cursor"]

    def both(self, query: str) -> tuple[tuple[int, str], tuple[int, str]]:
        """The response to ``query`` as the route check answers it, and as Litestar's reading does."""
        fast = self.api.get(f"/api/transactions?{query}")
        self.handler.opt.pop(ANSWER)
        try:
            slow = self.api.get(f"/api/transactions?{query}")
        finally:
            self.handler.opt[ANSWER] = self.answer
        return (fast.status_code, fast.text), (slow.status_code, slow.text)


@pytest.fixture(scope="module")
def tenant() -> Iterator[Tenant]:
    with app_client(Settings(backend="memory", log_json=True, cache=False)) as client:
        route = next(r for r in client.app.routes if r.path == "/api/transactions")
        handler = next(h for h in route.route_handlers if "GET" in h.http_methods)  # type: ignore[union-attr]
        yield Tenant(Api(client), handler)


def _values(t: Tenant) -> dict[str, list[str]]:
    """Values of each parameter: well-formed, odd but accepted, and refused."""
    upper, bare = t.a.upper(), t.a.replace("-", "")
    ids = [t.a, t.b, upper, bare, "{" + t.a + "}", "urn:uuid:" + t.a, "nope", "", str(uuid.uuid4()), "%20" + t.a]
    days = ["2026-01-03", "2026-1-3", "2026-02-30", "20260103", "2026-01-03T00:00:00", "", "x"]
    truth = ["true", "TRUE", "True", "1", "0", "false", "yes", "on", "t", "", "2"]
    return {
        "account_id": ids,
        "category_id": [t.food, t.food.upper(), "nope", ""],
        "import_id": [str(uuid.uuid4()), "nope"],
        "date_from": days,
        "date_to": days,
        "q": ["padaria", "pad", "a" * 200, "a" * 201, "%00", "%FF", "p%C3%A3o", "+", ""],
        "amount_min": ["-3", "-3.5", "1e2", "abc", "1" * 40, "1" * 41, ""],
        "amount_max": ["-2", "0.00001", ""],
        "uncategorized": truth,
        "tag": ["trip", "TRIP", "work", "bad%20tag", "", "x" * 60],
        "tag_match": ["any", "all", "ALL", "some", ""],
        "cursor": [t.cursor, "abc", "x" * 201, ""],
        "limit": ["2", "05", "+3", "-1", "0", "1e1", "3.0", "500", "501", "abc", "", "%203", "1_0"],
    }


def _check(t: Tenant, query: str) -> None:
    fast, slow = t.both(query)
    assert fast == slow, query
    pairs = parse_qsl(query, keep_blank_values=True, separator="&")  # as Litestar's query_params
    read = page_query(uuid.UUID(t.api.tenant_id), pairs)
    if read is None:  # the conversion declines only what Litestar refuses
        assert slow[0] == 422, (query, slow)
    if slow[0] == 200:  # and takes whatever it serves
        assert read is not None, query


def test_the_conversion_reads_the_names_the_route_declares(tenant: Tenant) -> None:
    """A filter added to the route (``transaction_filters``) and not to ``PageQuery`` fails here
    (and, at run time, makes the conversion decline every query that names it)."""
    assert set(PageQuery.__struct_fields__) == declared_query(tenant.handler, frozenset())
    assert _values(tenant).keys() == set(PageQuery.__struct_fields__)  # and every one is tried below


def test_each_value_of_each_parameter(tenant: Tenant) -> None:
    for name, values in _values(tenant).items():
        for value in values:
            _check(tenant, f"{name}={value}")
    _check(tenant, "")


def test_repeated_and_combined(tenant: Tenant) -> None:
    a, b = tenant.a, tenant.b
    for query in (
        f"account_id={a}&account_id={b}",
        f"account_id=nope&account_id={b}",
        f"account_id={a}&account_id=nope",
        "uncategorized=true&uncategorized=false",
        "uncategorized=false&uncategorized=true",
        "limit=0&limit=2",
        "limit=2&limit=0",
        "tag=trip&tag=work&tag_match=all",
        "tag=trip&tag=work&tag_match=any",
        "&".join(["tag=t"] * 20),
        "&".join(["tag=t"] * 21),
        f"account_id={a}&limit=2&cursor={tenant.cursor}",
        f"category_id={tenant.food}&uncategorized=true&q=padaria&amount_min=-5&amount_max=-1",
        "date_from=2026-01-05&date_to=2026-01-02",
        "&&limit=2&",
        "limit",
    ):
        _check(tenant, query)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mix_of_parameters(tenant: Tenant, data: st.DataObject) -> None:
    values = _values(tenant)
    names = data.draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=5))
    query = "&".join(f"{name}={data.draw(st.sampled_from(values[name]))}" for name in names)
    _check(tenant, query)


def test_hostile_query_strings(tenant: Tenant) -> None:
    """Unicode digits and spaces, NULs, invalid UTF-8, out-of-range numbers and dates, bracketed
    names, thousands of repeats and a 60 KB value: never a 500, and the same answer both ways."""
    for query in (
        "limit=%D9%A5", "limit=%EF%BC%95", "limit=5%00", "limit=99999999999999999999999", "limit=%091",
        "limit=0x5", "limit=true", "limit=1&limit=%EF%BC%95", "limit[]=1", "limit=1;limit=2",
        "uncategorized=%C4%B0", "uncategorized=%00", "uncategorized=1.0", "account_id=%00", "account_id=%EF%BC%90",
        "tag=%00", "tag=%ED%A0%80", "q=%ED%A0%80", "q=%00%00", "tag[]=a", "tag_match=any%00", "tag_match=%E2%80%8Bany",
        "date_from=%EF%BC%92026-01-01", "date_from=2026-01-01%00", "date_from=2026-W01-1", "date_to=0000-01-01",
        "date_from=9999-12-31", "amount_min=NaN", "amount_min=Infinity", "amount_min=1e999999999",
        "amount_max=1e-999999999", "cursor=%00", "&".join(["tag=t"] * 5000), "&".join(["limit=2"] * 5000),
        "q=" + "a" * 60_000, "q=" + "%C3%A3" * 10_000,
    ):  # fmt: skip
        fast, slow = tenant.both(query)
        assert fast[0] < 500, (query[:80], fast[0])
        assert fast == slow, query[:80]
