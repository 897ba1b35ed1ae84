"""What a cached read depends on, from its raw request (before the route validates it)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from valorize_core.model.categories import Category, CategoryKind, CategoryTree
from valorize_core.model.money import Money
from valorize_core.model.read_scopes import months_between, moved_category_scopes, transaction_scopes
from valorize_core.model.transactions import Split, Transaction
from valorize_entrypoints.api.caching import read_scopes

A = "0190a4d2-0000-7000-8000-00000000000a"
C = "0190a4d2-0000-7000-8000-00000000000c"
# every report reads the category tree (names, kinds) and converts; net worth and a report
# over the whole ledger also read the accounts (opening balances, names)
TREE_AND_CONVERSION = ("categories", "conversion")
LEDGER_REPORT = ("ledger", "accounts", *TREE_AND_CONVERSION)


@pytest.mark.parametrize(
    ("name", "path", "query", "scopes"),
    [
        ("accounts", "/api/accounts", "", ("accounts",)),
        ("transactions", "/api/transactions", "limit=5", ("ledger",)),
        ("transactions", "/api/transactions", f"account_id={A}", (f"account:{A}",)),
        ("transactions", "/api/transactions", f"account_id={A.upper()}&q=x", (f"account:{A}",)),
        ("transactions", "/api/transactions", f"category_id={C}&account_id={A}", (f"account:{A}", f"category:{C}")),
        ("transactions", "/api/transactions", "uncategorized=true", ("category:none",)),
        # what cannot be read here depends on the whole ledger
        ("transactions", "/api/transactions", f"account_id={A}&account_id={A}", ("ledger",)),
        ("transactions", "/api/transactions", "account_id=nope", ("ledger",)),
        ("transactions", "/api/transactions", "uncategorized=maybe", ("ledger",)),
        (
            "report",
            "/api/reports/spend_by_category",
            "start=2026-03-05&end=2026-04-01",
            ("month:2026-03", "month:2026-04", *TREE_AND_CONVERSION),
        ),
        (
            "report",
            "/api/reports/cash_flow",
            "start=2026-03-05&end=2026-03-06",
            ("month:2026-03", *TREE_AND_CONVERSION),
        ),
        ("report", "/api/reports/net_worth", "start=2026-03-05&end=2026-03-06", LEDGER_REPORT),
        ("report", "/api/reports/some_new_kind", "start=2026-03-05&end=2026-03-06", LEDGER_REPORT),
        ("report", "/api/reports/cash_flow", "start=2024-01-01&end=2026-03-06", LEDGER_REPORT),  # > 24 months
        ("report", "/api/reports/cash_flow", "start=2026-03-05", LEDGER_REPORT),
        ("report", "/api/reports/cash_flow", "start=2026-04-05&end=2026-03-06", LEDGER_REPORT),
    ],
)
def test_a_read_depends_on_the_scopes_its_request_names(
    name: str, path: str, query: str, scopes: tuple[str, ...]
) -> None:
    assert read_scopes(name, path, query.encode()) == scopes


def test_months_between_crosses_years() -> None:
    assert months_between(date(2025, 11, 30), date(2026, 2, 1)) == [
        "month:2025-11",
        "month:2025-12",
        "month:2026-01",
        "month:2026-02",
    ]


def test_a_transaction_retires_its_account_month_categories_and_their_ancestors() -> None:
    tenant = UUID(int=1)
    root = Category(UUID(int=10), tenant, "Food", CategoryKind.EXPENSE)
    child = Category(UUID(int=11), tenant, "Bakery", "expense", parent_id=root.id)
    tree = CategoryTree([root, child])
    tx = Transaction(
        id=UUID(int=5),
        tenant_id=tenant,
        account_id=UUID(int=2),
        booked_on=date(2026, 3, 1),
        description="x",
        payee="x",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        updated_at=datetime(2026, 3, 1, tzinfo=UTC),
        amount=Money(-300, "BRL"),
        splits=(Split(child.id, Money(-200, "BRL")), Split(None, Money(-100, "BRL"))),
    )
    assert transaction_scopes([tx], tree) == {
        "ledger",
        "accounts",
        f"account:{UUID(int=2)}",
        "month:2026-03",
        f"category:{child.id}",
        f"category:{root.id}",
        "category:none",
    }
    with pytest.raises(ValueError, match="tree"):
        transaction_scopes([tx], None)


def test_a_moved_category_retires_its_old_and_new_ancestors_lists() -> None:
    ids = [UUID(int=i) for i in range(1, 6)]
    root, food, bakery, other, pets = ids
    tenant = UUID(int=99)
    tree = CategoryTree(
        [
            Category(root, tenant, "Root", CategoryKind.EXPENSE),
            Category(food, tenant, "Food", CategoryKind.EXPENSE, root),
            Category(bakery, tenant, "Bakery", CategoryKind.EXPENSE, food),
            Category(other, tenant, "Other", CategoryKind.EXPENSE),
            Category(pets, tenant, "Pets", CategoryKind.EXPENSE, other),
        ]
    )
    # Bakery from Food (under Root) to Pets (under Other): its own list and its subtree are unchanged
    assert moved_category_scopes(tree, bakery, pets) == {f"category:{c}" for c in (food, root, pets, other)}
    assert moved_category_scopes(tree, bakery, None) == {f"category:{food}", f"category:{root}"}  # to the root
    assert moved_category_scopes(tree, other, root) == {f"category:{root}"}
