"""Read after write with scoped retirement, through the API on PostgreSQL and a real Redis.

Writes retire only the read scopes they declare (docs/caching.md, "Scopes"). A Hypothesis state
machine makes random writes of every kind that declares scopes — transactions with and without
categories (a child category's parent list included), transfers, edits of account, category,
day and amount, deletions, corrections, budget changes, statement imports (some rows
categorized by a rule), rule changes and their retroactive application, schedule postings,
category creations, renames, moves and deletions (of one in use), account creations, renames
and opening balances, the tenant's rates and reporting currency — several writers at once of
most kinds; after every step each cached read (transaction lists by account, category and
uncategorized, the unfiltered list, balances, reports of one month and of net worth, budget
status) must equal the same read from an API without a cache on the same database. Its
companions drop one kind of scope from what one kind of write declares and check that the
machine then fails: a missed scope cannot go unnoticed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from http_support import Api, cached_and_truth, run_background_tasks
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from litestar.testing import TestClient
from test_imports import MAPPING

from valorize_core.model.errors import Conflict, ValidationError
from valorize_core.use_cases.actions import (
    _shared,
    apply_rules,
    delete_category,
    import_statement,
    post_schedules,
    set_rates,
    set_reporting_currency,
    update_account,
    update_category,
)
from valorize_core.use_cases.actions.apply_rules import RetroactiveApply
from valorize_core.use_cases.actions.create_transaction import NewTransaction
from valorize_core.use_cases.actions.import_statement import ImportRequest, ImportRun
from valorize_core.use_cases.actions.post_schedules import SchedulePosting
from valorize_core.use_cases.actions.update_account import AccountChanges
from valorize_core.use_cases.actions.update_category import CategoryChanges
from valorize_core.use_cases.actions.update_transaction import TransactionChanges

DAYS = ["2026-03-10", "2026-03-28", "2026-04-10"]
OTHER_WRITERS = ["move", "apply", "import", "post", "opening"]


def statement(rows: list[tuple[str, bool, int]], turn: int) -> bytes:
    """A CSV statement (``MAPPING``'s columns) of ``(day, uber, cents)`` rows."""
    lines = ["data;lançamento;valor"]
    for k, (day, uber, cents) in enumerate(rows):
        when = date.fromisoformat(day).strftime("%d/%m/%Y")
        lines.append(f"{when};{'UBER' if uber else 'MERCADO'} {turn}.{k};-{cents // 100},{cents % 100:02d}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def clients(database_url: str, redis_url: str) -> Iterator[tuple[TestClient[Any], TestClient[Any]]]:
    """An API with the read cache on Redis (and its near cache), and one without any cache,
    on the same database: the truth."""
    with cached_and_truth(database_url, redis_url) as made:
        yield made


class StaleRead(AssertionError):
    """A cached read differs from the same read without a cache."""


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
        rule = {"name": "Uber", "conditions": {"match": "any", "conditions": [
            {"field": "description", "operator": "contains", "value": "UBER"},
            {"field": "description", "operator": "contains", "value": "PADARIA"}]},
            "actions": [{"type": "set_category", "category_id": self.other}]}  # fmt: skip
        self.rule = self.ok(self.api.post("/api/rules", rule), 201).json()["id"]
        schedule = {"account_id": self.a, "name": "Rent", "amount": "-7.00", "rule": "FREQ=WEEKLY",
                    "starts_on": "2026-03-01", "category_id": self.child}  # fmt: skip
        self.ok(self.api.post("/api/schedules", schedule), 201)
        self.extra: str | None = None  # a category that comes and goes (under ``other``)
        self.other_kind = "expense"
        self.accounts = 2
        self.opened = self.b
        self.ids: list[str] = []
        self.turn = 0
        for day, pick in (("2026-03-10", 0), ("2026-03-28", 2), ("2026-04-10", 3)):  # something to show
            self.create(False, pick, day, -1234)
        lists = [f"account_id={self.a}", f"account_id={self.b}", f"category_id={self.parent}",
                 f"category_id={self.child}", f"category_id={self.other}", "uncategorized=true", ""]  # fmt: skip
        self.reads = [f"/api/transactions?limit=100&{q}" for q in lists] + [
            "/api/accounts",
            "/api/reports/spend_by_category?start=2026-03-01&end=2026-03-31",
            "/api/reports/spend_by_category?start=2026-03-01&end=2026-03-31&currency=USD",
            "/api/reports/income_vs_expense?start=2026-04-01&end=2026-04-30",
            "/api/reports/net_worth?start=2026-03-01&end=2026-04-30",
            "/api/budgets/status?day=2026-03-15",
        ]

    def category(self, pick: int) -> str | None:
        return [None, self.parent, self.child, self.other, self.extra][pick]

    def ok(self, response: Any, *codes: int) -> Any:
        assert response.status_code in (codes or (200, 201, 204)), response.text
        return response

    @rule(on_b=st.booleans(), pick=st.integers(0, 4), day=st.sampled_from(DAYS), cents=st.integers(-9_999, 9_999))
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
            "category": {"category_id": self.category(data.draw(st.integers(0, 4)))},
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
    def rename(self, name: str) -> None:  # report rows show category paths: the tree
        self.ok(self.api.patch(f"/api/categories/{self.parent}", {"name": name}), 200)

    @rule(on_b=st.booleans(), rows=st.lists(st.tuples(st.sampled_from(DAYS), st.booleans(), st.integers(1, 9_999)),
                                            min_size=1, max_size=3))  # fmt: skip
    def import_rows(self, on_b: bool, rows: list[tuple[str, bool, int]]) -> None:
        """A statement through the API and the worker: new rows (an ``UBER`` one categorized by
        the rule), or rows the account already has (duplicates and settled ones)."""
        self.turn += 1
        csv = statement(rows, self.turn)
        form = {"account_id": self.b if on_b else self.a, "mapping": json.dumps(MAPPING)}
        files = {"file": ("extrato.csv", csv, "text/csv")}
        upload = self.ok(self.cached.post("/api/imports", data=form, files=files, headers=self.api.headers), 202)
        run_background_tasks(self.cached)
        assert self.api.get(f"/api/imports/{upload.json()['id']}").json()["status"] == "completed"

    @rule(pick=st.integers(1, 3), enabled=st.booleans())
    def change_rule(self, pick: int, enabled: bool) -> None:  # no cached read shows rules
        body = {"enabled": enabled, "actions": [{"type": "set_category", "category_id": self.category(pick)}]}
        self.ok(self.api.patch(f"/api/rules/{self.rule}", body), 200)

    @rule(pick=st.integers(1, 3), include_manual=st.booleans())
    def apply_rules(self, pick: int, include_manual: bool) -> None:
        """The rule pointed at a category (a rule change retires nothing), then applied to the
        stored rows (those it categorized, and with ``include_manual`` those a person did)."""
        self.turn += 1
        self.ok(self.api.tx(self.a, "2026-03-10", f"PADARIA {self.turn}", "-4.00"))  # the rule categorizes it
        self.every_read_is_fresh()  # read (and cache) before the rule changes
        self.change_rule(pick, True)
        job = self.ok(self.api.post("/api/rules/apply", {"include_manual": include_manual}), 202)
        run_background_tasks(self.cached)
        assert self.api.get(job.headers["location"]).json()["status"] == "completed"

    @rule(day=st.sampled_from(DAYS))
    def post_schedules(self, day: str) -> None:
        """The schedule tick's task for this tenant on ``day`` (a weekly payment in ``child``)."""
        posting = SchedulePosting(UUID(self.api.tenant_id), date.fromisoformat(day))
        self.cached.blocking_portal.call(self.cached.app.state.runtime.app.post_schedules, posting)

    @rule(under=st.sampled_from(["parent", "other", "root"]))
    def move(self, under: str) -> None:
        parent = {"parent": self.parent, "other": self.other, "root": None}[under]
        # 422 under ``other`` while it is of another kind
        self.ok(self.api.patch(f"/api/categories/{self.child}", {"parent_id": parent}), 200, 422)

    @rule(kind=st.sampled_from(["expense", "income"]))
    def rekind(self, kind: str) -> None:
        """``other``'s kind (what reports count as spending); 422 while it has subcategories."""
        if self.ok(self.api.patch(f"/api/categories/{self.other}", {"kind": kind}), 200, 422).status_code == 200:
            self.other_kind = kind

    @rule(name=st.sampled_from(["Transport", "Rides"]))
    def rename_other(self, name: str) -> None:
        self.ok(self.api.patch(f"/api/categories/{self.other}", {"name": name}), 200)

    @rule(cents=st.integers(1, 9_999), keep=st.booleans())
    def extra_category(self, cents: int, keep: bool) -> None:
        """Create a category under ``other`` with a transaction in it, read everything, and
        delete it (its transactions become uncategorized) now or, with ``keep``, in a later
        step (other writes may use it meanwhile)."""
        if self.extra is None:
            self.extra = self.api.category("Extra", kind=self.other_kind, parent=self.other)
            self.turn += 1
            amount = f"-{cents / 100:.2f}"
            created = self.api.tx(self.a, "2026-03-28", f"FEIRA {self.turn}", amount, category_id=self.extra)
            self.ids.append(self.ok(created, 201).json()["id"])
            self.every_read_is_fresh()  # read (and cache) before the deletion
            if keep:
                return
        extra, self.extra = self.extra, None
        self.ok(self.api.delete(f"/api/categories/{extra}"), 200, 204)

    @rule(cents=st.integers(0, 99_999))
    def change_account(self, cents: int) -> None:
        body = {"opening_balance": f"{cents / 100:.2f}", "name": f"B{cents % 3}"}
        self.ok(self.api.patch(f"/api/accounts/{self.b}", body), 200)

    @rule(archived=st.booleans())
    def new_account(self, archived: bool) -> None:
        """Open another account (at most two more), or archive or restore the last one opened."""
        if self.accounts < 4 and not archived:
            self.accounts += 1
            self.opened = self.api.account(f"C{self.accounts}", opening="12.34")
        elif self.accounts > 2:
            self.ok(self.api.patch(f"/api/accounts/{self.opened}", {"archived": archived}), 200)

    @rule(rate=st.sampled_from(["5.0", "6.0"]))
    def set_rate(self, rate: str) -> None:
        rates = [{"base": "USD", "quote": "BRL", "on": day, "rate": rate} for day in DAYS]
        self.ok(self.api.post("/api/rates", {"rates": rates}), 201)

    @rule(currency=st.sampled_from([None, "USD"]))
    def reporting_currency(self, currency: str | None) -> None:
        self.ok(self.api.patch("/api/settings", {"reporting_currency": currency}), 200)

    @rule(
        picks=st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.sampled_from(DAYS)), min_size=2, max_size=4),
        kinds=st.lists(st.sampled_from(OTHER_WRITERS), min_size=0, max_size=3),
    )
    def concurrently(self, picks: list[tuple[bool, int, str]], kinds: list[str]) -> None:
        """Writers in parallel on the API's event loop, through its use cases and commit pipeline;
        every other one edits an existing transaction instead, when there is one; and writers of
        other kinds among them (a category move, rules applied, an import, a schedule posting,
        an opening balance). A writer the domain refuses (a conflict) is fine; a stale read not."""
        vz = self.cached.app.state.runtime.app
        tenant = UUID(self.api.tenant_id)

        async def other(i: int, kind: str) -> None:
            try:
                if kind == "move":
                    target = [self.parent, self.other, None][i % 3]
                    parent = None if target is None else UUID(target)
                    await vz.update_category(CategoryChanges(tenant, UUID(self.child), parent_id=parent))
                elif kind == "apply":
                    await vz.apply_rules(RetroactiveApply(tenant, include_manual=bool(i % 2)))
                elif kind == "import":
                    self.turn += 1
                    content = statement([(DAYS[i % 3], bool(i % 2), 100 + i)], self.turn)
                    pending = await vz.request_import(ImportRequest(tenant, UUID(self.a), "x.csv", content, MAPPING))
                    await vz.run_import(ImportRun(tenant, pending.id))
                elif kind == "post":
                    await vz.post_schedules(SchedulePosting(tenant, date.fromisoformat(DAYS[i % 3])))
                else:
                    await vz.update_account(AccountChanges(tenant, UUID(self.b), opening_balance=f"{i}.00"))
            except (Conflict, ValidationError):  # a move under a category of another kind
                pass

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
            await asyncio.gather(
                *(one(i, *pick) for i, pick in enumerate(picks)), *(other(i, kind) for i, kind in enumerate(kinds))
            )

        self.cached.blocking_portal.call(all_at_once)

    @invariant()
    def every_read_is_fresh(self) -> None:
        if not hasattr(self, "reads"):
            return
        for path in self.reads:
            seen = self.ok(self.api.get(path), 200)
            truth = self.ok(self.truth.get(path, headers=self.api.headers), 200)
            if seen.json() != truth.json():
                raise StaleRead(path)


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
    run_machine(clients, max_examples=20, stateful_step_count=10)


def finds_a_stale_read(clients: tuple[TestClient[Any], TestClient[Any]], max_examples: int) -> None:
    """The machine must find a stale read (and nothing else). With concurrent writers a stale read
    may not come back when Hypothesis runs the case again: a flaky one counts too. The examples are
    drawn from a fixed seed (``derandomize``): whether a dropped scope is found must not depend on
    the run's luck (a random draw missed a dropped move scope in 100 examples once)."""
    found: BaseException | None = None
    try:
        run_machine(
            clients, max_examples=max_examples, stateful_step_count=10, phases=[Phase.generate], derandomize=True
        )
    except (StaleRead, FlakyFailure) as failure:
        found = failure
    if found is None:
        pytest.fail("the machine found no stale read")
    others = [e for e in getattr(found, "exceptions", [found]) if not isinstance(e, StaleRead)]
    assert not others, others


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
    finds_a_stale_read(clients, max_examples=30)


async def _declares_nothing(uow: Any, *versions: Any) -> None:
    """``retire_transactions`` that declares nothing changed (not "the tenant": nothing)."""
    uow.retires()


@pytest.mark.parametrize(
    ("module", "name", "replacement"),
    [
        (import_statement, "retire_transactions", _declares_nothing),
        (apply_rules, "retire_transactions", _declares_nothing),
        (post_schedules, "retire_transactions", _declares_nothing),
        (update_category, "moved_category_scopes", lambda *_: set()),
        (update_category, "CATEGORIES", "dropped"),
        (delete_category, "transaction_scopes", lambda *_: set()),
        (update_account, "ACCOUNTS", "dropped"),
        (set_rates, "CONVERSION", "dropped"),
        (set_reporting_currency, "CONVERSION", "dropped"),
    ],
    ids=[
        "import",
        "apply-rules",
        "schedule-posting",
        "category-move",
        "category-tree",
        "category-delete",
        "account",
        "rates",
        "reporting-currency",
    ],
)
def test_the_machine_fails_when_a_narrowed_write_misses_a_scope(
    clients: tuple[TestClient[Any], TestClient[Any]],
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    name: str,
    replacement: Any,
) -> None:
    """Each write kind narrowed from "the tenant" to its scopes, with one of them dropped."""
    monkeypatch.setattr(module, name, replacement)
    finds_a_stale_read(clients, max_examples=100)  # stops at the first stale read
