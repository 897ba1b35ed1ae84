"""Each kind of write retires the cached reads it can change and keeps the others cached.

For every write kind: the reads are cached first, the write is made, and then each read it
cannot affect is a hit while each read it affects is computed again (a miss). Writes that
declare no scopes retire the whole tenant (only a restore now); background effects no cached read shows retire
nothing. Correctness (no stale read) is the state machine's (test_scoped_retirement.py); this
is the precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from http_support import Api, run_background_tasks
from litestar.testing import TestClient
from test_imports import upload

from valorize_core import SchedulePosting
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True))
    with TestClient(create_app(container)) as test_client:
        yield test_client


class Books:
    """A tenant with two accounts, a parent category with a child, another category, a
    budget and one March transaction ``t0`` in account A and category ``other``."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.api = api = Api(client)
        self.a, self.b = api.account("A"), api.account("B")
        self.parent = api.category("Food")
        self.child = api.category("Bakery", parent=self.parent)
        self.other = api.category("Transport")
        self.t0 = api.tx(self.a, "2026-03-10", "UBER", "-9.00", category_id=self.other).json()["id"]
        budget = {"category_id": self.parent, "limit": "80.00", "currency": "BRL", "starts_on": "2026-01-01"}
        self.budget = ok(api.post("/api/budgets", budget)).json()["id"]
        self.rule = ok(api.post("/api/rules", uber_rule(self.parent))).json()["id"]  # t0 stays manual
        self.schedule = ok(api.post("/api/schedules", self.schedule_body())).json()["id"]
        run_background_tasks(client)
        lists = {"all": "", "A": f"account_id={self.a}", "B": f"account_id={self.b}",
                 "parent": f"category_id={self.parent}", "child": f"category_id={self.child}",
                 "other": f"category_id={self.other}", "uncategorized": "uncategorized=true"}  # fmt: skip
        self.paths = {name: f"/api/transactions?limit=50&{q}" for name, q in lists.items()} | {
            "accounts": "/api/accounts",
            "march": "/api/reports/spend_by_category?start=2026-03-01&end=2026-03-31",
            "april": "/api/reports/spend_by_category?start=2026-04-01&end=2026-04-30",
            "net_worth": "/api/reports/net_worth?start=2026-01-01&end=2026-04-30",
            "status": "/api/budgets/status?day=2026-03-15",
        }

    def schedule_body(self) -> dict[str, Any]:
        """A yearly payment from account A in ``child``, from 5 April 2026."""
        return {"account_id": self.a, "name": "Ride", "amount": "-7.00", "rule": "FREQ=YEARLY",
                "starts_on": "2026-04-05", "category_id": self.child}  # fmt: skip

    def background(self, response: Any) -> None:
        """Run what the request queued (an import, a job), as the worker would."""
        run_background_tasks(self.client)

    def post_schedules(self, day: str) -> None:
        """What the schedule tick's task does for this tenant on ``day``."""
        runtime = self.client.app.state.runtime
        posting = SchedulePosting(UUID(self.api.tenant_id), date.fromisoformat(day))
        assert self.client.blocking_portal.call(runtime.app.post_schedules, posting)
        run_background_tasks(self.client)

    def hit(self, name: str) -> bool:
        return self.revalidate(name)[0]

    def revalidate(self, name: str, tag: str = '"none"') -> tuple[bool, int, str]:
        """Read with ``If-None-Match: tag``: whether it was a hit, the status and the tag."""
        stats = self.client.app.state.runtime.reads.stats
        before = stats.hits + stats.near_hits
        response = self.api.get(self.paths[name], headers={"If-None-Match": tag})
        assert response.status_code in (200, 304), response.text
        return stats.hits + stats.near_hits > before, response.status_code, response.headers["etag"]

    def prime(self) -> dict[str, str]:
        """Cache every read; their tags."""
        for name in self.paths:
            self.hit(name)
        tags = {name: self.revalidate(name) for name in self.paths}
        assert all(hit for hit, _, _ in tags.values())  # everything cached
        return {name: tag for name, (_, _, tag) in tags.items()}


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201, 202, 204), response.text
    return response


REPORTS = {"march", "april", "net_worth", "status"}  # what converts, and what reads the tree
TREE = REPORTS
WRITES: dict[str, tuple[Callable[[Books], object], set[str]]] = {
    # write kind: (the write, the reads it retires; every other read stays cached)
    "create in a child category": (
        lambda b: ok(b.api.tx(b.a, "2026-04-02", "PADARIA", "-5.00", category_id=b.child)),
        {"all", "A", "child", "parent", "accounts", "april", "net_worth", "status"},
    ),
    "create uncategorized": (
        lambda b: ok(b.api.tx(b.b, "2026-04-02", "XYZ 123", "-5.00")),
        {"all", "B", "uncategorized", "accounts", "april", "net_worth", "status"},
    ),
    "transfer": (
        lambda b: ok(
            b.api.post(
                "/api/transfers",
                {"from_account_id": b.a, "to_account_id": b.b, "amount": "3.00", "booked_on": "2026-04-03"},
            )
        ),
        {"all", "A", "B", "uncategorized", "accounts", "april", "net_worth", "status"},
    ),
    "edit the category": (
        lambda b: ok(b.api.patch(f"/api/transactions/{b.t0}", {"category_id": b.child})),
        {"all", "A", "other", "child", "parent", "accounts", "march", "net_worth", "status"},
    ),
    "edit the day": (
        lambda b: ok(b.api.patch(f"/api/transactions/{b.t0}", {"booked_on": "2026-04-20"})),
        {"all", "A", "other", "accounts", "march", "april", "net_worth", "status"},
    ),
    "edit the account": (
        lambda b: ok(b.api.patch(f"/api/transactions/{b.t0}", {"account_id": b.b})),
        {"all", "A", "B", "other", "accounts", "march", "net_worth", "status"},
    ),
    "correct the category": (
        lambda b: ok(b.api.post(f"/api/transactions/{b.t0}/category", {"category_id": b.parent})),
        {"all", "A", "other", "parent", "accounts", "march", "net_worth", "status"},
    ),
    "delete": (
        lambda b: ok(b.api.delete(f"/api/transactions/{b.t0}")),
        {"all", "A", "other", "accounts", "march", "net_worth", "status"},
    ),
    # The tree: names (report rows' paths), kinds and parents are read by reports and the
    # budget status; a move also changes which rows its old and new ancestors' lists hold. A new
    # category has no rows: nothing shows it yet.
    "create a category": (lambda b: b.api.category("Pets"), set()),
    "rename a category": (lambda b: ok(b.api.patch(f"/api/categories/{b.other}", {"name": "Taxi"})), TREE),
    "change a category's kind": (lambda b: ok(b.api.patch(f"/api/categories/{b.other}", {"kind": "income"})), TREE),
    "move a category": (
        lambda b: ok(b.api.patch(f"/api/categories/{b.child}", {"parent_id": b.other})),
        TREE | {"parent", "other"},
    ),
    "delete a category": (lambda b: ok(b.api.delete(f"/api/categories/{b.child}")), TREE | {"child", "parent"}),
    "delete a category in use": (
        lambda b: ok(b.api.delete(f"/api/categories/{b.other}")),
        TREE | {"all", "A", "other", "uncategorized", "accounts"},
    ),
    # Accounts: the account list and net worth (opening balances).
    "create an account": (lambda b: b.api.account("C"), {"accounts", "net_worth"}),
    "rename an account": (
        lambda b: ok(b.api.patch(f"/api/accounts/{b.b}", {"name": "Savings"})),
        {"accounts", "net_worth"},
    ),
    "change an opening balance": (
        lambda b: ok(b.api.patch(f"/api/accounts/{b.b}", {"opening_balance": "10.00"})),
        {"accounts", "net_worth"},
    ),
    "delete an account": (lambda b: ok(b.api.delete(f"/api/accounts/{b.b}")), {"accounts", "net_worth"}),
    # Budgets: only the status shows them.
    "set a budget": (
        lambda b: ok(
            b.api.post(
                "/api/budgets", {"category_id": b.other, "limit": "50.00", "currency": "BRL", "starts_on": "2026-01-01"}
            )
        ),
        {"status"},
    ),
    "delete a budget": (lambda b: ok(b.api.delete(f"/api/budgets/{b.budget}")), {"status"}),
    # Conversion: the tenant's rates and reporting currency.
    "set rates": (
        lambda b: ok(
            b.api.post("/api/rates", {"rates": [{"base": "USD", "quote": "BRL", "on": "2026-03-01", "rate": "5.0"}]})
        ),
        REPORTS,
    ),
    "set the reporting currency": (lambda b: ok(b.api.patch("/api/settings", {"reporting_currency": "USD"})), REPORTS),
    # Rules and schedules: no cached read shows them.
    "create a rule": (lambda b: ok(b.api.post("/api/rules", uber_rule(b.other))), set()),
    "change a rule": (lambda b: ok(b.api.patch(f"/api/rules/{b.rule}", {"name": "Rides"})), set()),
    "delete a rule": (lambda b: ok(b.api.delete(f"/api/rules/{b.rule}")), set()),
    "create a schedule": (lambda b: ok(b.api.post("/api/schedules", b.schedule_body())), set()),
    # What rewrites or adds rows is a transaction write: the rows' scopes.
    "apply rules": (
        lambda b: b.background(ok(b.api.post("/api/rules/apply", {"include_manual": True}))),
        {"all", "A", "other", "parent", "accounts", "march", "net_worth", "status"},
    ),
    "import a statement": (
        lambda b: b.background(ok(upload(b.api, b.b, "data;lançamento;valor\n05/04/2026;ZQXW 77;-4,00\n"))),
        {"all", "B", "uncategorized", "accounts", "april", "net_worth", "status"},
    ),
    "import a statement categorized by a rule": (
        lambda b: b.background(ok(upload(b.api, b.b, "data;lançamento;valor\n05/04/2026;UBER 77;-4,00\n"))),
        {"all", "B", "parent", "accounts", "april", "net_worth", "status"},
    ),
    "import nothing new": (
        lambda b: b.background(ok(upload(b.api, b.a, "data;lançamento;valor\n10/03/2026;UBER;-9,00\n"))),
        set(),
    ),
    "post a scheduled occurrence": (
        lambda b: b.post_schedules("2026-04-05"),
        {"all", "A", "child", "parent", "accounts", "april", "net_worth", "status"},
    ),
}


def uber_rule(category: str) -> dict[str, Any]:
    return {"name": "Uber", "conditions": {"match": "all", "conditions": [
        {"field": "description", "operator": "contains", "value": "UBER"}]},
        "actions": [{"type": "set_category", "category_id": category}]}  # fmt: skip


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_write_retires_what_it_can_change_and_nothing_else(client: TestClient[Any], kind: str) -> None:
    books = Books(client)
    write, retired = WRITES[kind]
    tags = books.prime()
    write(books)
    seen = {name: books.revalidate(name, tags[name]) for name in books.paths}
    assert {name for name, (hit, _, _) in seen.items() if not hit} == retired
    # what stayed cached is revalidated (304, same tag); what was retired is sent again
    assert {name for name, (_, status, _) in seen.items() if status == 200} == retired
    assert all((tag == tags[name]) == (name not in retired) for name, (_, _, tag) in seen.items())


def test_background_effects_no_cached_read_shows_retire_nothing(client: TestClient[Any]) -> None:
    """A write's follow-up tasks (budget evaluation, notifications, webhook fan-out) and the
    task marks commit units of their own: none of them retires a cached read."""
    books = Books(client)
    ok(books.api.tx(books.a, "2026-04-02", "PADARIA", "-95.00", category_id=books.child))  # crosses the budget
    books.prime()
    queued = client.app.state.runtime.task_queue.pending()
    assert {task.name for task in queued} >= {"evaluate_budgets"}
    run_background_tasks(client)
    assert all(books.hit(name) for name in books.paths)
