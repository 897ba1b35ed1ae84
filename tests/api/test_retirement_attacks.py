"""Adversarial read-after-write checks of scoped cache retirement (docs/caching.md, "Scopes").

Each test warms every cached read of a tenant through an API with the read cache (on Redis with
its near cache, and in the process), makes one narrowed write through that API (or its worker), and then
compares every cached read — and every revalidation with the tag seen before the write — with
the same read from an API without a cache on the same PostgreSQL database. The reads go
beyond the state machine's (test_scoped_retirement.py): a three-level tree, split
transactions, every range report kind, tag and import filters, archived accounts, repeated
and oddly spelled query parameters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest
from http_support import Api, cached_and_truth, run_background_tasks
from litestar.testing import TestClient
from test_imports import MAPPING

from valorize_core.use_cases.actions.post_schedules import SchedulePosting

MARCH = "start=2026-03-01&end=2026-03-31"


@pytest.fixture(params=["redis", "in-process"])
def pair(request: pytest.FixtureRequest, database_url: str) -> Iterator[tuple[TestClient[Any], TestClient[Any]]]:
    """An API with the read cache — on Redis (near cache on), or in the process — and one
    without a cache: the truth."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    with cached_and_truth(database_url, redis_url) as made:
        yield made


def ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201, 202, 204)), response.text
    return response


class Books:
    """Accounts A (BRL) and U (USD); Food > Bakery > Bread, Transport, Salary (income); a
    budget on Food; a rule on UBER; a weekly schedule in Bread; March rows, one split."""

    def __init__(self, cached: TestClient[Any], truth: TestClient[Any]) -> None:
        self.cached, self.truth = cached, truth
        self.api = api = Api(cached)
        self.a, self.u = api.account("A"), api.account("U", currency="USD", opening="10.00")
        self.food = api.category("Food")
        self.bakery = api.category("Bakery", parent=self.food)
        self.bread = api.category("Bread", parent=self.bakery)
        self.transport = api.category("Transport")
        self.salary = api.category("Salary", kind="income")
        budget = {"category_id": self.food, "limit": "100.00", "currency": "BRL", "starts_on": "2026-01-01"}
        ok(api.post("/api/budgets", budget))
        ok(api.tx(self.a, "2026-03-03", "PAO", "-3.00", category_id=self.bread, tags=["home"]))
        ok(api.tx(self.a, "2026-03-05", "SALARIO", "50.00", category_id=self.salary))
        ok(api.tx(self.u, "2026-03-07", "TAXI NYC", "-2.00", category_id=self.transport))
        self.split = ok(
            api.tx(
                self.a,
                "2026-03-09",
                "FEIRA",
                "-10.00",
                splits=[
                    {"amount": "-6.00", "category_id": self.bread},
                    {"amount": "-4.00", "category_id": self.transport},
                ],
            )
        )
        ok(api.tx(self.a, "2026-03-11", "MERCADO 0", "-1.00"))  # uncategorized
        run_background_tasks(cached)
        lists = ["", f"account_id={self.a}", f"account_id={self.u}", f"category_id={self.food}",
                 f"category_id={self.bakery}", f"category_id={self.bread}", f"category_id={self.transport}",
                 "uncategorized=true", "uncategorized=TRUE", "uncategorized=false&uncategorized=true",
                 "uncategorized=true&uncategorized=false", f"account_id={self.u}&account_id={self.a}",
                 f"category_id={self.food}&uncategorized=1", f"account_id={self.a.replace('-', '')}",
                 "tag=home", "q=uber", "date_from=2026-03-01&date_to=2026-03-31"]  # fmt: skip
        self.reads = [f"/api/transactions?{q}" for q in lists] + [
            "/api/accounts",
            "/api/accounts?include_archived=true",
            "/api/budgets/status?day=2026-03-15",
            *(f"/api/reports/{k}?{MARCH}" for k in ("spend_by_category", "spend_by_tag", "income_vs_expense")),
            f"/api/reports/cash_flow?{MARCH}",
            f"/api/reports/spend_by_category?{MARCH}&currency=USD",
            f"/api/reports/cash_flow?{MARCH}&currency=BRL",
            "/api/reports/spend_by_category?start=2026-03-15&end=2026-04-15",
            "/api/reports/net_worth?start=2026-02-01&end=2026-04-30",
            "/api/reports/net_worth?start=2026-02-01&end=2026-04-30&currency=BRL",
        ]
        self.tags: dict[str, tuple[str, Any]] = {}

    def warm(self) -> None:
        """Read (and cache) everything, twice: the second read is a hit; keep each tag and body."""
        stats = self.cached.app.state.runtime.reads.stats
        for path in self.reads:
            ok(self.api.get(path), 200)
            before = stats.hits + stats.near_hits
            seen = ok(self.api.get(path), 200)
            assert stats.hits + stats.near_hits == before + 1, path  # cached
            self.tags[path] = (seen.headers["etag"], seen.json())

    def stale(self) -> list[str]:
        """Every read (or revalidation with the tag from before) that differs from the truth."""
        out = []
        for path in self.reads:
            truth = ok(self.truth.get(path, headers=self.api.headers), 200).json()
            if ok(self.api.get(path), 200).json() != truth:
                out.append(path)
            tag, before = self.tags[path]
            again = self.api.get(path, headers={"If-None-Match": tag})
            if again.status_code == 304 and before != truth:
                out.append(f"304 {path}")
        return out

    def write(self, action: Any) -> None:
        """Warm, write, and require no stale read."""
        self.warm()
        action()
        run_background_tasks(self.cached)
        assert self.stale() == []

    def import_csv(self, account: str, rows: list[tuple[str, str, str]]) -> None:
        lines = ["data;lançamento;valor"] + [
            f"{date.fromisoformat(d).strftime('%d/%m/%Y')};{text};{amount}" for d, text, amount in rows
        ]
        form = {"account_id": account, "mapping": json.dumps(MAPPING)}
        files = {"file": ("extrato.csv", ("\n".join(lines) + "\n").encode(), "text/csv")}
        done = ok(self.cached.post("/api/imports", data=form, files=files, headers=self.api.headers), 202)
        run_background_tasks(self.cached)
        assert self.api.get(f"/api/imports/{done.json()['id']}").json()["status"] == "completed"


@pytest.fixture
def books(pair: tuple[TestClient[Any], TestClient[Any]]) -> Books:
    return Books(*pair)


def rule(name: str, word: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
    conditions = {"match": "any", "conditions": [{"field": "description", "operator": "contains", "value": word}]}
    return {"name": name, "conditions": conditions, "actions": actions}


def test_an_import_retires_balances_lists_reports_and_the_status(books: Books) -> None:
    ok(books.api.post("/api/rules", rule("Bread", "PADARIA", [{"type": "set_category", "category_id": books.bread},
                                                             {"type": "add_tag", "tag": "home"}])))  # fmt: skip
    books.write(lambda: books.import_csv(books.a, [("2026-03-20", "PADARIA 1", "-5,00"),
                                                   ("2026-03-21", "MERCADO 9", "-7,00"),
                                                   ("2026-04-02", "PADARIA 2", "-1,00")]))  # fmt: skip


def test_an_import_that_settles_a_stored_row_retires_it(books: Books) -> None:
    ok(books.api.tx(books.a, "2026-03-25", "MERCADO 7", "-8.00", status="pending"))
    books.write(lambda: books.import_csv(books.a, [("2026-03-25", "MERCADO 7", "-8,50")]))


def test_rules_applied_retire_rows_tags_and_reports(books: Books) -> None:
    made = ok(books.api.post("/api/rules", rule("Mercado", "MERCADO", [{"type": "add_tag", "tag": "groceries"}])))
    books.write(lambda: ok(books.api.post("/api/rules/apply", {"rule_ids": [made.json()["id"]]})))
    body = {"actions": [{"type": "set_category", "category_id": books.bakery}]}
    books.write(lambda: ok(books.api.patch(f"/api/rules/{made.json()['id']}", body)))  # nothing shows it
    books.write(lambda: ok(books.api.post("/api/rules/apply", {"include_manual": True})))


def test_a_batch_categorization_retires_the_rows(books: Books) -> None:
    ok(books.api.post("/api/rules", rule("Mercado", "MERCADO", [{"type": "set_category", "category_id": books.bread}])))
    books.write(lambda: ok(books.api.post("/api/transactions/categorize", {"account_id": books.a})))


def test_a_rename_reaches_every_path_that_shows_it(books: Books) -> None:
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.bakery}", {"name": "Padaria"})))
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.food}", {"name": "Comida"})))


def test_a_grandchild_moved_between_trees(books: Books) -> None:
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.bread}", {"parent_id": books.transport})))
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.bakery}", {"parent_id": None})))
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.bakery}", {"parent_id": books.transport})))
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.transport}", {"parent_id": books.food})))


def test_a_kind_change_retires_what_counts_by_kind(books: Books) -> None:
    books.write(lambda: ok(books.api.patch(f"/api/categories/{books.transport}", {"kind": "income"})))


def test_deleting_a_category_in_a_split_row(books: Books) -> None:
    books.write(lambda: ok(books.api.delete(f"/api/categories/{books.bread}")))


def test_account_rename_archive_opening_and_new_accounts(books: Books) -> None:
    books.write(lambda: ok(books.api.patch(f"/api/accounts/{books.u}", {"name": "Dollars"})))
    books.write(lambda: ok(books.api.patch(f"/api/accounts/{books.u}", {"archived": True})))
    books.write(lambda: ok(books.api.patch(f"/api/accounts/{books.a}", {"opening_balance": "5.00"})))
    books.write(lambda: ok(books.api.patch(f"/api/accounts/{books.a}", {"kind": "credit_card"})))
    books.write(lambda: books.api.account("New", currency="EUR", opening="3.00"))


def test_deleting_an_empty_account(books: Books) -> None:
    empty = books.api.account("Empty", opening="9.00")
    books.reads.append(f"/api/transactions?account_id={empty}")
    books.write(lambda: ok(books.api.delete(f"/api/accounts/{empty}")))


def test_a_schedule_posting_retires_what_it_writes(books: Books) -> None:
    body = {"account_id": books.a, "name": "Rent", "amount": "-7.00", "rule": "FREQ=WEEKLY",
            "starts_on": "2026-03-02", "category_id": books.bread, "tags": ["home"]}  # fmt: skip
    books.write(lambda: ok(books.api.post("/api/schedules", body)))  # nothing shows it yet
    posting = SchedulePosting(UUID(books.api.tenant_id), date(2026, 3, 31))
    runtime = books.cached.app.state.runtime
    books.write(lambda: books.cached.blocking_portal.call(runtime.app.post_schedules, posting))


def test_tenant_rates_and_reporting_currency(books: Books) -> None:
    rates = [{"base": "USD", "quote": "BRL", "on": f"2026-03-{d:02d}", "rate": "5.0"} for d in (1, 15, 31)]
    books.write(lambda: ok(books.api.post("/api/rates", {"rates": rates})))
    rates = [dict(r, rate="6.0") for r in rates]
    books.write(lambda: ok(books.api.post("/api/rates", {"rates": rates})))
    books.write(lambda: ok(books.api.patch("/api/settings", {"reporting_currency": "USD"})))
    books.write(lambda: ok(books.api.patch("/api/settings", {"reporting_currency": "BRL"})))
    budget = {"category_id": books.transport, "limit": "10.00", "currency": "USD", "starts_on": "2026-01-01"}
    ok(books.api.post("/api/budgets", budget))
    books.write(lambda: ok(books.api.post("/api/rates", {"rates": [dict(r, rate="7.0") for r in rates]})))


@pytest.mark.parametrize("rounds", [6])
def test_narrowed_writes_racing_reads_in_flight(books: Books, rounds: int) -> None:
    """Reads in flight while a rename, a move, a rate, an opening balance or a reporting currency
    commits (each on the API's event loop, through HTTP): a read that started before may answer
    from before, but once every request has returned, every cached read is fresh."""
    api = books.api
    rates = [{"base": "USD", "quote": "BRL", "on": "2026-03-01", "rate": "5.0"}]
    writes: list[tuple[str, str, Any]] = [
        ("PATCH", f"/api/categories/{books.bakery}", {"name": "Padaria"}),
        ("PATCH", f"/api/categories/{books.bread}", {"parent_id": books.transport}),
        ("POST", "/api/rates", {"rates": rates}),
        ("PATCH", f"/api/accounts/{books.a}", {"opening_balance": "7.00", "name": "A2"}),
        ("PATCH", "/api/settings", {"reporting_currency": "USD"}),
        ("PATCH", f"/api/categories/{books.bread}", {"parent_id": books.bakery}),
    ]

    async def race(method: str, path: str, body: Any) -> None:
        transport = httpx.ASGITransport(app=books.cached.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=api.headers) as http:
            reads = [http.get(p) for p in books.reads]
            write = http.request(method, path, json=body)
            answers = await asyncio.gather(*reads[: len(reads) // 2], write, *reads[len(reads) // 2 :])
        assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers if a.status_code >= 300]

    for i in range(rounds):
        books.warm()
        rates[0]["rate"] = f"{5 + i}.0"  # a new rate each time
        books.cached.blocking_portal.call(race, *writes[i % len(writes)])
        run_background_tasks(books.cached)
        assert books.stale() == [], writes[i % len(writes)]
