"""Read after write with scoped retirement, through the API on PostgreSQL and a real Redis.

Writes retire only the read scopes they declare (docs/caching.md, "Scopes"). A Hypothesis state
machine makes random writes of every kind that declares scopes — transactions with and without
categories (a child category's parent list included), transfers, edits of account, category,
day and amount, deletions, corrections — some of them concurrently, budget changes, and a write
that retires the whole tenant (a category rename); after every step each cached read (transaction lists by
account, category and uncategorized, the unfiltered list, balances, reports of one month and of
net worth, budget status) must equal the same read from an API without a cache on the same
database. Its companion drops one kind of scope from what transactions declare and checks that
the machine then fails: a missed scope cannot go unnoticed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from http_support import Api
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from litestar.testing import TestClient

from valorize_core.use_cases.actions import _shared
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

DAYS = ["2026-03-10", "2026-03-28", "2026-04-10"]


@pytest.fixture
def clients(database_url: str, redis_url: str) -> Iterator[tuple[TestClient[Any], TestClient[Any]]]:
    """An API with the read cache on Redis (and its near cache), and one without any cache,
    on the same database: the truth."""
    with ExitStack() as stack:
        made = []
        for cache in (True, False):
            container = Container()
            container.settings.override(
                Settings(
                    backend="postgres",
                    database_url=database_url,
                    db_pool_max=4,
                    cache=cache,
                    redis_url=redis_url if cache else "",
                )
            )
            made.append(stack.enter_context(TestClient(create_app(container), raise_server_exceptions=False)))
        yield made[0], made[1]


class ScopedReads(RuleBasedStateMachine):
    cached: TestClient[Any]
    truth: TestClient[Any]

    @initialize()
    def setup(self) -> None:
        self.api = Api(self.cached)
        self.a, self.b = self.api.account("A"), self.api.account("B")
        self.parent = self.api.category("Food")
        self.child = self.api.category("Bakery", parent=self.parent)
        self.other = self.api.category("Transport")
        budget = {"category_id": self.parent, "limit": "100.00", "currency": "BRL", "starts_on": "2026-01-01"}
        self.budget = self.ok(self.api.post("/api/budgets", budget), 201).json()["id"]
        self.ids: list[str] = []
        self.turn = 0
        lists = [f"account_id={self.a}", f"account_id={self.b}", f"category_id={self.parent}",
                 f"category_id={self.child}", f"category_id={self.other}", "uncategorized=true", ""]  # fmt: skip
        self.reads = [f"/api/transactions?limit=100&{q}" for q in lists] + [
            "/api/accounts",
            "/api/reports/spend_by_category?start=2026-03-01&end=2026-03-31",
            "/api/reports/income_vs_expense?start=2026-04-01&end=2026-04-30",
            "/api/reports/net_worth?start=2026-03-01&end=2026-04-30",
            "/api/budgets/status?day=2026-03-15",
        ]

    def category(self, pick: int) -> str | None:
        return [None, self.parent, self.child, self.other][pick]

    def ok(self, response: Any, *codes: int) -> Any:
        assert response.status_code in (codes or (200, 201, 204)), response.text
        return response

    @rule(on_b=st.booleans(), pick=st.integers(0, 3), day=st.sampled_from(DAYS), cents=st.integers(-9_999, 9_999))
    def create(self, on_b: bool, pick: int, day: str, cents: int) -> None:
        category = self.category(pick)
        extra = {} if category is None else {"category_id": category}
        self.turn += 1
        amount = f"{cents / 100:.2f}"
        r = self.ok(self.api.tx(self.b if on_b else self.a, day, f"PADARIA {self.turn}", amount, **extra))
        self.ids.append(r.json()["id"])

    @rule(day=st.sampled_from(DAYS))
    def transfer(self, day: str) -> None:
        body = {"from_account_id": self.a, "to_account_id": self.b, "amount": "3.00", "booked_on": day}
        self.ok(self.api.post("/api/transfers", body))

    @rule(data=st.data(), change=st.sampled_from(["account", "category", "day", "amount", "description"]))
    def edit(self, data: st.DataObject, change: str) -> None:
        if not self.ids:
            return
        tx = data.draw(st.sampled_from(self.ids))
        body: dict[str, Any] = {
            "account": {"account_id": data.draw(st.sampled_from([self.a, self.b]))},
            "category": {"category_id": self.category(data.draw(st.integers(0, 3)))},
            "day": {"booked_on": data.draw(st.sampled_from(DAYS))},
            "amount": {"amount": f"{data.draw(st.integers(-9_999, 9_999)) / 100:.2f}"},
            "description": {"description": f"MERCADO {data.draw(st.integers(0, 3))}"},
        }[change]
        self.ok(self.api.patch(f"/api/transactions/{tx}", body), 200)

    @rule(data=st.data(), pick=st.integers(1, 3))
    def correct(self, data: st.DataObject, pick: int) -> None:
        if self.ids:
            tx = data.draw(st.sampled_from(self.ids))
            self.ok(self.api.post(f"/api/transactions/{tx}/category", {"category_id": self.category(pick)}), 200)

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if self.ids:
            tx = data.draw(st.sampled_from(self.ids))
            self.ids.remove(tx)
            self.ok(self.api.delete(f"/api/transactions/{tx}"))

    @rule(limit=st.sampled_from(["5.00", "100.00"]))
    def budget(self, limit: str) -> None:  # retires the budget status alone
        body = {"category_id": self.parent, "limit": limit, "currency": "BRL", "starts_on": "2026-01-01"}
        self.ok(self.api.patch(f"/api/budgets/{self.budget}", body), 200)

    @rule(name=st.sampled_from(["Food", "Meals"]))
    def rename(self, name: str) -> None:  # declares nothing: retires the tenant
        self.ok(self.api.patch(f"/api/categories/{self.parent}", {"name": name}), 200)

    @rule(picks=st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.sampled_from(DAYS)), min_size=2, max_size=4))
    def concurrently(self, picks: list[tuple[bool, int, str]]) -> None:
        """Writers in parallel on the API's event loop, through its use cases and commit pipeline;
        every other one edits an existing transaction instead, when there is one."""
        vz = self.cached.app.state.runtime.app
        tenant = UUID(self.api.tenant_id)

        async def one(i: int, on_b: bool, pick: int, day: str) -> None:
            category = self.category(pick)
            account = UUID(self.b if on_b else self.a)
            if i % 2 and self.ids:
                changes = TransactionChanges(tenant, UUID(self.ids[i % len(self.ids)]), account_id=account,
                                             category_id="none" if category is None else UUID(category))  # fmt: skip
                await vz.update_transaction(changes)
                return
            new = NewTransaction(tenant, account, date.fromisoformat(day), f"FEIRA {i}", "-2.50",
                                 category_id=None if category is None else UUID(category))  # fmt: skip
            self.ids.append(str((await vz.create_transaction(new)).id))

        async def all_at_once() -> None:
            await asyncio.gather(*(one(i, *pick) for i, pick in enumerate(picks)))

        self.cached.blocking_portal.call(all_at_once)

    @invariant()
    def every_read_is_fresh(self) -> None:
        if not hasattr(self, "reads"):
            return
        for path in self.reads:
            seen = self.ok(self.api.get(path), 200)
            truth = self.ok(self.truth.get(path, headers=self.api.headers), 200)
            assert seen.json() == truth.json(), path


def run_machine(clients: tuple[TestClient[Any], TestClient[Any]], **config: Any) -> None:
    ScopedReads.cached, ScopedReads.truth = clients
    run_state_machine_as_test(
        ScopedReads,
        settings=settings(
            deadline=None, database=None, report_multiple_bugs=False, suppress_health_check=list(HealthCheck), **config
        ),
    )


def test_no_read_is_stale_after_writes_that_retire_only_their_scopes(
    clients: tuple[TestClient[Any], TestClient[Any]],
) -> None:
    run_machine(clients, max_examples=12, stateful_step_count=10)


def dropping(prefix: str, *, ancestors: bool = False) -> Callable[..., set[str]]:
    """``transaction_scopes`` without one kind of scope (or without categories' ancestors)."""
    real = _shared.transaction_scopes

    def scopes(transactions: Any, tree: Any) -> set[str]:
        transactions = list(transactions)
        out = _no_ancestors(real, transactions) if ancestors else real(transactions, tree)
        return {s for s in out if not s.startswith(prefix)} if prefix else out

    return scopes


def _no_ancestors(real: Callable[..., set[str]], transactions: list[Any]) -> set[str]:
    class Flat:
        def ancestors(self, _: object) -> list[object]:
            return []

    return real(transactions, Flat())


@pytest.mark.parametrize(
    ("prefix", "ancestors"),
    [
        ("account:", False),
        ("category:", False),
        ("", True),
        ("month:", False),
        ("ledger", False),
        ("accounts", False),
    ],
    ids=["account", "category", "category-ancestors", "month", "ledger", "balances"],
)
def test_the_machine_fails_when_transactions_miss_a_scope(
    clients: tuple[TestClient[Any], TestClient[Any]], monkeypatch: pytest.MonkeyPatch, prefix: str, ancestors: bool
) -> None:
    monkeypatch.setattr(_shared, "transaction_scopes", dropping(prefix, ancestors=ancestors))
    with pytest.raises(AssertionError):
        run_machine(clients, max_examples=30, stateful_step_count=10, phases=[Phase.generate])
