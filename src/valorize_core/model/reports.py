"""Reports as pure functions over accounts, categories and transactions.

All amounts stay exact and per currency: a report never adds two currencies together.
Transfers between the tenant's own accounts are movements, not income or spending, so they are
left out of every report except net worth (where they cancel anyway).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.budgets import BudgetPeriod, next_period_start, period_end
from valorize_core.model.categories import CategoryKind, CategoryTree
from valorize_core.model.money import Money
from valorize_core.model.transactions import Split, Transaction

__all__ = [
    "CashFlowRow",
    "IncomeExpenseRow",
    "NetWorthPoint",
    "SpendRow",
    "TagSpendRow",
    "cash_flow",
    "income_vs_expense",
    "month_of",
    "months_between",
    "net_worth_over_time",
    "spend_by_category",
    "spend_by_tag",
]


def month_of(day: date) -> date:
    """First day of the month of ``day``."""
    return day.replace(day=1)


def months_between(start: date, end: date) -> list[date]:
    """First days of every month from ``start``'s month through ``end``'s month."""
    out: list[date] = []
    current = month_of(start)
    while current <= end:
        out.append(current)
        current = next_period_start(BudgetPeriod.MONTH, current)
    return out


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Net spending of one category in one month (refunds subtract)."""

    month: date
    category_id: UUID | None
    spent: Money


def spend_by_category(transactions: Iterable[Transaction], tree: CategoryTree) -> list[SpendRow]:
    """Spending per month and expense category (``None``: uncategorized outflows).

    Income categories are left out; an uncategorized split counts when it is an outflow.
    """
    totals: dict[tuple[date, UUID | None, str], int] = defaultdict(int)
    for tx in transactions:
        if tx.is_transfer:
            continue
        for split in _spending_splits(tx, tree):
            key = (month_of(tx.booked_on), split.category_id, split.amount.currency.code)
            totals[key] -= split.amount.minor
    rows = [SpendRow(m, c, Money(v, cur)) for (m, c, cur), v in totals.items()]
    return sorted(rows, key=lambda r: (r.month, -r.spent.minor, str(r.category_id)))


def _spending_splits(tx: Transaction, tree: CategoryTree) -> Iterator[Split]:
    """The splits that count as spending: in expense categories (refunds included), and
    uncategorized outflows."""
    for split in tx.splits:
        category = tree.get(split.category_id) if split.category_id else None
        if category is not None and category.kind is not CategoryKind.EXPENSE:
            continue
        if category is None and (split.category_id is not None or split.amount.minor >= 0):
            continue
        yield split


@dataclass(frozen=True, slots=True)
class TagSpendRow:
    """Net spending of the transactions carrying one tag in one month (refunds subtract)."""

    month: date
    tag: str
    spent: Money


def spend_by_tag(transactions: Iterable[Transaction], tree: CategoryTree) -> list[TagSpendRow]:
    """Spending per month and tag, counted as :func:`spend_by_category` counts it; a transaction
    with several tags counts in each (so the tags' rows may add up to more than the spending)."""
    totals: dict[tuple[date, str, str], int] = defaultdict(int)
    for tx in transactions:
        if tx.is_transfer or not tx.tags:
            continue
        parts = list(_spending_splits(tx, tree))
        if not parts:
            continue
        spent = -sum(split.amount.minor for split in parts)
        for tag in tx.tags:
            totals[(month_of(tx.booked_on), tag, tx.amount.currency.code)] += spent
    rows = [TagSpendRow(m, tag, Money(v, cur)) for (m, tag, cur), v in totals.items()]
    return sorted(rows, key=lambda r: (r.month, -r.spent.minor, r.tag, r.spent.currency.code))


@dataclass(frozen=True, slots=True)
class IncomeExpenseRow:
    """Income and expense of one month in one currency, by category kind."""

    month: date
    income: Money
    expense: Money

    @property
    def net(self) -> Money:
        """Income minus expense."""
        return self.income - self.expense


def income_vs_expense(transactions: Iterable[Transaction], tree: CategoryTree) -> list[IncomeExpenseRow]:
    """Per month: income (splits in income categories) and expense (in expense categories).

    Uncategorized splits count by sign: inflows as income, outflows as expense.
    """
    income: dict[tuple[date, str], int] = defaultdict(int)
    expense: dict[tuple[date, str], int] = defaultdict(int)
    for tx in transactions:
        if tx.is_transfer:
            continue
        for split in tx.splits:
            key = (month_of(tx.booked_on), split.amount.currency.code)
            category = tree.get(split.category_id) if split.category_id else None
            kind = (
                category.kind if category else (CategoryKind.INCOME if split.amount.minor > 0 else CategoryKind.EXPENSE)
            )
            if kind is CategoryKind.INCOME:
                income[key] += split.amount.minor
            else:
                expense[key] -= split.amount.minor
    keys = sorted(set(income) | set(expense))
    return [IncomeExpenseRow(m, Money(income[(m, c)], c), Money(expense[(m, c)], c)) for m, c in keys]


@dataclass(frozen=True, slots=True)
class CashFlowRow:
    """Money in and out of the tenant's accounts in one month and currency."""

    month: date
    inflow: Money
    outflow: Money

    @property
    def net(self) -> Money:
        """Inflow minus outflow."""
        return self.inflow - self.outflow


def cash_flow(transactions: Iterable[Transaction]) -> list[CashFlowRow]:
    """Per month: inflows and outflows by sign of the amount, transfers left out."""
    inflow: dict[tuple[date, str], int] = defaultdict(int)
    outflow: dict[tuple[date, str], int] = defaultdict(int)
    for tx in transactions:
        if tx.is_transfer:
            continue
        key = (month_of(tx.booked_on), tx.amount.currency.code)
        if tx.amount.minor >= 0:
            inflow[key] += tx.amount.minor
        else:
            outflow[key] -= tx.amount.minor
    keys = sorted(set(inflow) | set(outflow))
    return [CashFlowRow(m, Money(inflow[(m, c)], c), Money(outflow[(m, c)], c)) for m, c in keys]


@dataclass(frozen=True, slots=True)
class NetWorthPoint:
    """Sum of every account's balance at the end of a month, in one currency, and each account's
    balance (``accounts``, in the order of the accounts given)."""

    as_of: date
    net_worth: Money
    accounts: tuple[tuple[UUID, Money], ...] = ()


def net_worth_over_time(
    accounts: Iterable[Account], transactions: Iterable[Transaction], start: date, end: date
) -> list[NetWorthPoint]:
    """Net worth at the end of each month from ``start`` to ``end`` (the last point is ``end``)."""
    accounts = list(accounts)
    months = months_between(start, end)
    ends = [min(period_end(BudgetPeriod.MONTH, m), end) for m in months]
    opening: dict[str, int] = defaultdict(int)
    currencies: set[str] = set()
    for a in accounts:
        opening[a.currency.code] += a.opening_balance.minor
        currencies.add(a.currency.code)
    transactions = list(transactions)
    per_account = _account_balances(accounts, transactions, ends)
    changes: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for tx in transactions:
        changes[tx.amount.currency.code].append((tx.booked_on, tx.amount.minor))
        currencies.add(tx.amount.currency.code)
    points: list[NetWorthPoint] = []
    for code in sorted(currencies):
        moves = sorted(changes[code])
        running = opening[code]
        i = 0
        for as_of in ends:
            while i < len(moves) and moves[i][0] <= as_of:
                running += moves[i][1]
                i += 1
            points.append(NetWorthPoint(as_of, Money(running, code), tuple(per_account.get((as_of, code), ()))))
    return sorted(points, key=lambda p: (p.as_of, p.net_worth.currency.code))


def _account_balances(
    accounts: list[Account], transactions: Iterable[Transaction], ends: list[date]
) -> dict[tuple[date, str], list[tuple[UUID, Money]]]:
    """Each account's balance at each of ``ends``, grouped by day and currency."""
    moves: dict[UUID, list[tuple[date, int]]] = defaultdict(list)
    for tx in transactions:
        moves[tx.account_id].append((tx.booked_on, tx.amount.minor))
    out: dict[tuple[date, str], list[tuple[UUID, Money]]] = defaultdict(list)
    for account in accounts:
        own = sorted(moves[account.id])
        running, i = account.opening_balance.minor, 0
        for as_of in ends:
            while i < len(own) and own[i][0] <= as_of:
                running += own[i][1]
                i += 1
            out[(as_of, account.currency.code)].append((account.id, Money(running, account.currency)))
    return out
