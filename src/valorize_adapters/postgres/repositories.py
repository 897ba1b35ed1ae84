"""PostgreSQL repositories. Every statement filters by tenant explicitly; row-level security
repeats the filter underneath, so a forgotten ``WHERE`` still cannot cross tenants."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, LiteralString
from uuid import UUID

from psycopg.types.json import Jsonb

from valorize_adapters.postgres import rows
from valorize_adapters.postgres.session import Params, Session
from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.categories import Category
from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.forecast import BalanceAlert
from valorize_core.model.identity import ApiToken, Member, Membership, Role, Tenant, User
from valorize_core.model.jobs import Job
from valorize_core.model.listing import Page, PageKey, TransactionFilter
from valorize_core.model.money import Currency, Money, currency
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rates import Rate
from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.model.rules import Rule, action_to_data, condition_to_data
from valorize_core.model.schedules import Schedule, ScheduleOccurrence
from valorize_core.model.statements.imports import StatementImport
from valorize_core.model.statements.matching import MatchScope
from valorize_core.model.subscriptions import TrackedSubscription
from valorize_core.model.transaction_view import ViewPage
from valorize_core.model.transactions import Transaction
from valorize_core.model.webhooks import WebhookDelivery, WebhookEndpoint
from valorize_core.ports.patterns import PatternEngine
from valorize_core.use_cases.cooperative import cooperatively

__all__ = [
    "PgAccounts",
    "PgBalanceAlerts",
    "PgBudgets",
    "PgCategories",
    "PgIdentity",
    "PgImports",
    "PgJobs",
    "PgNotifications",
    "PgPayees",
    "PgProcessedTasks",
    "PgRuleSuggestions",
    "PgRules",
    "PgSchedules",
    "PgSubscriptions",
    "PgTransactions",
]


class _Repo:
    def __init__(self, session: Session) -> None:
        self._s = session

    @property
    def _t(self) -> UUID:
        assert self._s.tenant_id is not None
        return self._s.tenant_id


class PgAccounts(_Repo):
    """The rows this unit locked (``lock``) are kept with the balances it moved since: a move of
    a held row is known without asking (the row cannot change under the lock but by this unit),
    so its update is queued with the commit (no round trip of its own, docs/postgres.md)."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._held: dict[UUID, Account] = {}

    def forget(self) -> None:
        """The transaction ended: its locks, and what they held, are gone."""
        self._held.clear()

    async def get(self, account_id: UUID) -> Account | None:
        r = await self._s.fetch_one("SELECT * FROM accounts WHERE tenant_id = %s AND id = %s", (self._t, account_id))
        return rows.account(r) if r else None

    async def lock(self, account_ids: Sequence[UUID]) -> list[Account]:
        if not account_ids:
            return []
        # One statement: the row a FOR UPDATE returns after waiting is the latest version.
        rs = await self._s.fetch(
            "SELECT * FROM accounts WHERE tenant_id = %s AND id = ANY(%s) ORDER BY id FOR UPDATE",
            (self._t, list(account_ids)),
        )
        locked = [rows.account(r) for r in rs]
        self._held.update((account.id, account) for account in locked)
        return locked

    async def list(self) -> list[Account]:
        rs = await self._s.fetch("SELECT * FROM accounts WHERE tenant_id = %s ORDER BY lower(name), id", (self._t,))
        return [rows.account(r) for r in rs]

    async def add(self, account: Account) -> None:
        await self._s.execute(
            "INSERT INTO accounts (tenant_id, id, name, kind, currency, exponent, opening_minor, balance_minor,"
            " opened_on, archived, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (account.tenant_id, account.id, account.name, account.kind.value, account.currency.code,
             account.currency.exponent, account.opening_balance.minor, account.balance.minor, account.opened_on,
             account.archived, account.created_at),
        )  # fmt: skip

    async def update(self, account: Account) -> None:
        self._held.pop(account.id, None)  # its next move asks for the row
        n = await self._s.execute(
            "UPDATE accounts SET name = %s, kind = %s, archived = %s, opening_minor = %s"
            " WHERE tenant_id = %s AND id = %s",
            (account.name, account.kind.value, account.archived, account.opening_balance.minor, self._t, account.id),
        )
        if not n:
            raise NotFound("account", account.id)

    async def remove(self, account_id: UUID) -> None:
        self._held.pop(account_id, None)
        if not await self._s.execute("DELETE FROM accounts WHERE tenant_id = %s AND id = %s", (self._t, account_id)):
            raise NotFound("account", account_id)

    async def apply_balance_delta(self, account_id: UUID, delta_minor: int) -> Account:
        if (held := self._held.get(account_id)) is not None:
            # Locked by this unit: its balance is the locked row's plus this unit's moves, and
            # ``balance = balance + Δ`` makes the same sum at the commit (with the unit's last
            # transaction rows, carried as below).
            moved = dataclasses.replace(held, balance=Money(held.balance.minor + delta_minor, held.balance.currency))
            self._s.defer_carrying(
                "UPDATE accounts SET balance_minor = balance_minor + %s WHERE tenant_id = %s AND id = %s",
                (delta_minor, self._t, account_id),
            )
            self._held[account_id] = moved
            return moved
        # With the unit's last transaction rows (their inserts carried in the same statement:
        # the update reads neither table).
        found = await self._s.fetch_carrying(
            "UPDATE accounts SET balance_minor = balance_minor + %s WHERE tenant_id = %s AND id = %s RETURNING *",
            (delta_minor, self._t, account_id),
        )
        if not found:
            raise NotFound("account", account_id)
        return rows.account(found[0])


# The first key of the two-key advisory lock on a tenant's category tree (the second is the
# tenant's): shared by the transaction writes that declare from the tree, exclusive by its changes.
_CATEGORY_TREE_LOCK = 0x4354
_LOCK_TREE_SHARED: LiteralString = "pg_advisory_xact_lock_shared(%s, hashtext(%s))"
_LOCK_TREE: LiteralString = "pg_advisory_xact_lock(%s, hashtext(%s))"
_LIST_CATEGORIES: LiteralString = "SELECT * FROM categories WHERE tenant_id = %s ORDER BY lower(name), id"


class PgCategories(_Repo):
    """The unit's list of categories is read once (the unit's cache): a write of this
    repository forgets it, and a locking read always goes to the database.

    The tree is held, for the rest of the unit, by a transaction-level advisory lock on the
    tenant's tree taken in the same round trip as the read that needs it: shared by
    ``for_share`` (transaction writes declaring ancestors), exclusive by ``for_update`` (tree
    changes), so a change and a write into the changed subtree commit one after the other."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._listed: list[Category] | None = None
        self._held = False  # the tree lock (shared or exclusive) is held until the unit ends

    async def get(self, category_id: UUID) -> Category | None:
        r = await self._s.fetch_one("SELECT * FROM categories WHERE tenant_id = %s AND id = %s", (self._t, category_id))
        return rows.category(r) if r else None

    async def list(self, *, for_update: bool = False, for_share: bool = False) -> list[Category]:
        if self._listed is not None and not for_update and (self._held or not for_share):
            return list(self._listed)
        key = (_CATEGORY_TREE_LOCK, str(self._t))
        if for_update:
            # The tree lock first (every unit takes it before any row lock), then the rows in id
            # order; the read after them sees what committed meanwhile. NO KEY UPDATE: it excludes
            # other holders and a DELETE, never the FK checks of writes that merely reference a
            # category (a split's), which take KEY SHARE. All in one round trip.
            self._s.hold(_LOCK_TREE, key)
            _, rs = await self._s.fetch_together(
                ("SELECT id FROM categories WHERE tenant_id = %s ORDER BY id FOR NO KEY UPDATE", (self._t,)),
                (_LIST_CATEGORIES, (self._t,)),
            )
            self._held = True
        elif for_share and not self._held:
            # In one round trip (with whatever reads are gathered with it; in the settings'
            # statement when it opens the unit): the read runs after the lock is granted, so it
            # sees a change that held the tree before this unit.
            self._s.hold(_LOCK_TREE_SHARED, key)
            rs = await self._s.fetch(_LIST_CATEGORIES, (self._t,))
            self._held = True
        else:
            rs = await self._s.fetch(_LIST_CATEGORIES, (self._t,))
        self._listed = [rows.category(r) for r in rs]
        return list(self._listed)

    async def add(self, category: Category) -> None:
        self._listed = None
        await self._s.execute(
            "INSERT INTO categories (tenant_id, id, name, kind, parent_id) VALUES (%s, %s, %s, %s, %s)",
            (category.tenant_id, category.id, category.name, category.kind.value, category.parent_id),
        )

    async def update(self, category: Category) -> None:
        self._listed = None
        n = await self._s.execute(
            "UPDATE categories SET name = %s, kind = %s, parent_id = %s WHERE tenant_id = %s AND id = %s",
            (category.name, category.kind.value, category.parent_id, self._t, category.id),
        )
        if not n:
            raise NotFound("category", category.id)

    async def remove(self, category_id: UUID) -> None:
        self._listed = None
        if not await self._s.execute("DELETE FROM categories WHERE tenant_id = %s AND id = %s", (self._t, category_id)):
            raise NotFound("category", category_id)


_INSERT_TX: LiteralString = (
    "INSERT INTO transactions (search, tenant_id, id, account_id, booked_on, description, payee, amount_minor,"
    " currency, exponent, status, source, tags, external_id, fingerprint, cat_source, cat_confidence, cat_explanation,"
    " cat_rule_id, transfer_id, import_id, created_at, updated_at)"
    " VALUES (array_to_tsvector(%s::text[]), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
    " %s, %s, %s, %s, %s, %s)"
)
_INSERT_SPLIT: LiteralString = (
    "INSERT INTO splits (tenant_id, transaction_id, position, category_id, amount_minor, memo)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
# Many rows (an import): one statement per table whatever their number, the columns as arrays
# (one parameter each, so the statement text and its plan stay the same); the search words and
# tags (word characters, no space) travel space-joined.
_INSERT_TX_MANY: LiteralString = (
    "INSERT INTO transactions (search, tenant_id, id, account_id, booked_on, description, payee, amount_minor,"
    " currency, exponent, status, source, tags, external_id, fingerprint, cat_source, cat_confidence, cat_explanation,"
    " cat_rule_id, transfer_id, import_id, created_at, updated_at)"
    " SELECT array_to_tsvector(string_to_array(r.search, ' ')), %s, r.id, r.account_id, r.booked_on, r.description,"
    " r.payee, r.amount_minor, r.currency, r.exponent, r.status, r.source, string_to_array(r.tags, ' '),"
    " r.external_id, r.fingerprint, r.cat_source, r.cat_confidence, r.cat_explanation, r.cat_rule_id,"
    " r.transfer_id, r.import_id, r.created_at, r.updated_at"
    " FROM unnest(%s::text[], %s::uuid[], %s::uuid[], %s::date[], %s::text[], %s::text[], %s::int8[], %s::text[],"
    " %s::int2[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::numeric[], %s::text[],"
    " %s::uuid[], %s::uuid[], %s::uuid[], %s::timestamptz[], %s::timestamptz[])"
    " AS r(search, id, account_id, booked_on, description, payee, amount_minor, currency, exponent, status, source,"
    " tags, external_id, fingerprint, cat_source, cat_confidence, cat_explanation, cat_rule_id, transfer_id,"
    " import_id, created_at, updated_at)"
)
_INSERT_SPLIT_MANY: LiteralString = (
    "INSERT INTO splits (tenant_id, transaction_id, position, category_id, amount_minor, memo)"
    " SELECT %s, r.transaction_id, r.position, r.category_id, r.amount_minor, r.memo"
    " FROM unnest(%s::uuid[], %s::int2[], %s::uuid[], %s::int8[], %s::text[])"
    " AS r(transaction_id, position, category_id, amount_minor, memo)"
)
_SELECT_TX: LiteralString = "SELECT " + rows.TRANSACTION_COLUMNS + " FROM transactions t"
_UPDATE_TX: LiteralString = (
    "UPDATE transactions SET search = array_to_tsvector(%s::text[]), account_id = %s, booked_on = %s,"
    " description = %s, payee = %s, amount_minor = %s, currency = %s, exponent = %s, status = %s,"
    " source = %s, tags = %s,"
    " external_id = %s, fingerprint = %s, cat_source = %s, cat_confidence = %s, cat_explanation = %s,"
    " cat_rule_id = %s, transfer_id = %s, import_id = %s, updated_at = %s"
    " WHERE tenant_id = %s AND id = %s"
)


def _where(tenant: UUID, f: TransactionFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = ["t.tenant_id = %s"]
    params: list[Any] = [tenant]
    if len(f.account_ids) == 1:  # equality lets the planner use (tenant, account, date, id)
        clauses.append("t.account_id = %s")
        params.append(f.account_ids[0])
    elif f.account_ids:
        clauses.append("t.account_id = ANY(%s)")
        params.append(list(f.account_ids))
    if f.category_ids:
        clauses.append(
            "EXISTS (SELECT 1 FROM splits s WHERE s.tenant_id = t.tenant_id AND s.transaction_id = t.id"
            " AND s.category_id = ANY(%s))"
        )
        params.append(list(f.category_ids))
    if f.uncategorized:
        clauses.append(
            "t.transfer_id IS NULL AND EXISTS (SELECT 1 FROM splits s WHERE s.tenant_id = t.tenant_id"
            " AND s.transaction_id = t.id AND s.category_id IS NULL)"
        )
    if f.date_from:
        clauses.append("t.booked_on >= %s")
        params.append(f.date_from)
    if f.date_to:
        clauses.append("t.booked_on <= %s")
        params.append(f.date_to)
    if f.words:
        # Tokens are letters and digits only, so quoting them as lexemes is safe.
        clauses.append("t.search @@ %s::tsquery")
        params.append(" & ".join(f"'{w}':*" for w in f.words))
    if f.amount_min is not None:
        clauses.append("t.amount_minor >= %s * power(10::numeric, t.exponent)")
        params.append(f.amount_min)
    if f.amount_max is not None:
        clauses.append("t.amount_minor <= %s * power(10::numeric, t.exponent)")
        params.append(f.amount_max)
    if f.import_id is not None:
        clauses.append("t.import_id = %s")
        params.append(f.import_id)
    if f.tags_any:
        clauses.append("t.tags && %s::text[]")
        params.append(list(f.tags_any))
    if f.tags_all:
        clauses.append("t.tags @> %s::text[]")
        params.append(list(f.tags_all))
    return " AND ".join(clauses), params


class PgTransactions(_Repo):
    async def get(self, transaction_id: UUID) -> Transaction | None:
        r = await self._s.fetch_one(_SELECT_TX + " WHERE t.tenant_id = %s AND t.id = %s", (self._t, transaction_id))
        return rows.transaction(r) if r else None

    async def get_many(self, transaction_ids: Sequence[UUID]) -> list[Transaction]:
        if not transaction_ids:
            return []
        rs = await self._s.fetch(
            _SELECT_TX + " WHERE t.tenant_id = %s AND t.id = ANY(%s) ORDER BY t.id", (self._t, list(transaction_ids))
        )
        return [rows.transaction(r) for r in rs]

    async def lock(self, transaction_ids: Sequence[UUID]) -> list[Transaction]:
        if not transaction_ids:
            return []
        # Two statements on purpose (pipelined: one round trip): in one, the splits subquery
        # would read with the snapshot taken before the lock wait and could pair the new amount
        # with the old splits. The second runs after every lock is held, so it reads the rows as
        # their last holders committed them.
        ids = list(transaction_ids)
        rs = await self._s.fetch_in_turn(
            "SELECT id FROM transactions WHERE tenant_id = %s AND id = ANY(%s) ORDER BY id FOR UPDATE",
            (self._t, ids),
            _SELECT_TX + " WHERE t.tenant_id = %s AND t.id = ANY(%s) ORDER BY t.id",
            (self._t, ids),
        )
        return [rows.transaction(r) for r in rs]

    async def add(self, transaction: Transaction) -> None:
        await self.add_many([transaction])

    async def add_many(self, transactions: Sequence[Transaction]) -> None:
        for tx in transactions:
            if tx.tenant_id != self._t:
                raise NotFound("tenant", tx.tenant_id)
        # Sent with the unit's next statement (or its commit): a constraint error surfaces there.
        if len(transactions) > 1:  # an import: two statements, whatever the number of rows
            self._s.defer(_INSERT_TX_MANY, [rows.transaction_columns(self._t, transactions)])
            self._s.defer(_INSERT_SPLIT_MANY, [rows.split_columns(self._t, transactions)])
            return
        # One transaction of one split: two single-row inserts the balance's update may carry.
        self._s.defer(_INSERT_TX, [rows.transaction_params(t) for t in transactions], inline=True)
        self._s.defer(_INSERT_SPLIT, [p for t in transactions for p in rows.split_params(t)], inline=True)

    async def update(self, transaction: Transaction) -> None:
        await self.update_many([transaction])

    async def update_many(self, transactions: Sequence[Transaction]) -> None:
        if not transactions:
            return
        ids = [tx.id for tx in transactions]
        found = await self._s.fetch(
            "SELECT count(*) AS n FROM transactions WHERE tenant_id = %s AND id = ANY(%s)", (self._t, ids)
        ) if len(ids) > 1 else None  # fmt: skip
        if found is not None and found[0]["n"] != len(set(ids)):
            raise NotFound("transaction", ids[0])
        params = []
        for tx in transactions:
            search, *fields = rows.transaction_params(tx)
            params.append((search, *fields[2:20], fields[21], self._t, tx.id))
        if len(params) == 1:
            if not await self._s.execute(_UPDATE_TX, params[0]):
                raise NotFound("transaction", ids[0])
            await self._s.execute("DELETE FROM splits WHERE tenant_id = %s AND transaction_id = %s", (self._t, ids[0]))
        else:
            await self._s.execute_many(_UPDATE_TX, params)
            await self._s.execute(
                "DELETE FROM splits WHERE tenant_id = %s AND transaction_id = ANY(%s)", (self._t, ids)
            )
        await self._s.execute_many(_INSERT_SPLIT, [p for tx in transactions for p in rows.split_params(tx)])

    async def remove(self, transaction_id: UUID) -> None:
        if not await self._s.execute(
            "DELETE FROM transactions WHERE tenant_id = %s AND id = %s", (self._t, transaction_id)
        ):
            raise NotFound("transaction", transaction_id)

    @staticmethod
    def _page_query(tenant_id: UUID, filter: TransactionFilter, after: PageKey | None, limit: int) -> tuple[
        str, list[Any]]:  # fmt: skip
        """A page's query: its rows and one more (there is a next page when it comes)."""
        where, params = _where(tenant_id, filter)
        if after is not None:
            where += " AND (t.booked_on, t.id) < (%s, %s)"
            params += [after[0], after[1]]
        query = _SELECT_TX + " WHERE " + where + " ORDER BY t.booked_on DESC, t.id DESC LIMIT %s"
        return query, [*params, limit + 1]

    async def page(self, filter: TransactionFilter, after: PageKey | None, limit: int) -> Page:
        rs = await self._s.fetch(*self._page_query(self._t, filter, after, limit))
        items = [rows.transaction(r) for r in rs[:limit]]
        more = len(rs) > limit
        return Page(items, (items[-1].booked_on, items[-1].id) if more and items else None)

    async def page_view(self, filter: TransactionFilter, after: PageKey | None, limit: int) -> ViewPage:
        # Each row made a view by the cursor itself (rows.transaction_views): no dict per row.
        query, params = self._page_query(self._t, filter, after, limit)
        items = await self._s.fetch_made(query, params, rows.transaction_views)
        more = len(items) > limit
        del items[limit:]
        return ViewPage(items, (items[-1].booked_on, items[-1].id) if more and items else None)

    async def all(self, filter: TransactionFilter) -> list[Transaction]:
        where, params = _where(self._t, filter)
        rs = await self._s.fetch(_SELECT_TX + " WHERE " + where + " ORDER BY t.booked_on, t.id", params)
        # 100,000 rows take seconds to decode: hand the event loop back while doing it.
        return [rows.transaction(r) async for r in cooperatively(rs)]

    async def match_candidates(self, account_id: UUID, scope: MatchScope) -> list[Transaction]:
        # IN (SELECT unnest(...)): a hashed lookup per row whatever the plan, where "= ANY(%s)"
        # with a generic plan (a prepared statement) compares each row with every element.
        rs = await self._s.fetch(
            _SELECT_TX + " WHERE t.tenant_id = %s AND t.account_id = %s AND t.booked_on BETWEEN %s AND %s"
            " AND (t.amount_minor IN (SELECT unnest(%s::bigint[]))"
            " OR t.external_id IN (SELECT unnest(%s::text[])) OR t.fingerprint IN (SELECT unnest(%s::text[])))"
            " ORDER BY t.booked_on, t.id",
            (self._t, account_id, scope.date_from, scope.date_to, sorted(scope.amounts),
             sorted(scope.external_ids), sorted(scope.fingerprints)),
        )  # fmt: skip
        return [rows.transaction(r) async for r in cooperatively(rs)]

    async def sum_outside_balance(self, account_id: UUID, as_of: date, pending_from: date) -> int:
        # sum() of bigint is numeric: exact, whatever the count of rows.
        r = await self._s.fetch_one(
            "SELECT coalesce(sum(amount_minor), 0) AS n FROM transactions WHERE tenant_id = %s AND account_id = %s"
            " AND (booked_on > %s OR (status = 'pending' AND booked_on BETWEEN %s AND %s))",
            (self._t, account_id, as_of, pending_from, as_of),
        )
        return int(r["n"]) if r else 0

    async def count_for_account(self, account_id: UUID) -> int:
        r = await self._s.fetch_one(
            "SELECT count(*) AS n FROM transactions WHERE tenant_id = %s AND account_id = %s", (self._t, account_id)
        )
        return int(r["n"]) if r else 0

    async def count_for_category(self, category_id: UUID) -> int:
        r = await self._s.fetch_one(
            "SELECT count(DISTINCT transaction_id) AS n FROM splits WHERE tenant_id = %s AND category_id = %s",
            (self._t, category_id),
        )
        return int(r["n"]) if r else 0

    async def clear_category(self, category_id: UUID) -> list[UUID]:
        rs = await self._s.fetch(
            "UPDATE splits SET category_id = NULL WHERE tenant_id = %s AND category_id = %s RETURNING transaction_id",
            (self._t, category_id),
        )
        return sorted({r["transaction_id"] for r in rs})

    async def transfer_legs(self, transfer_id: UUID) -> list[Transaction]:
        rs = await self._s.fetch(
            _SELECT_TX + " WHERE t.tenant_id = %s AND t.transfer_id = %s ORDER BY t.id", (self._t, transfer_id)
        )
        return [rows.transaction(r) for r in rs]

    async def existing_external_ids(self, account_id: UUID, external_ids: Sequence[str]) -> set[str]:
        if not external_ids:
            return set()
        rs = await self._s.fetch(
            "SELECT external_id FROM transactions WHERE tenant_id = %s AND account_id = %s AND external_id = ANY(%s)",
            (self._t, account_id, list(external_ids)),
        )
        return {r["external_id"] for r in rs}

    async def existing_fingerprints(self, account_id: UUID, fingerprints: Sequence[str]) -> set[str]:
        if not fingerprints:
            return set()
        rs = await self._s.fetch(
            "SELECT fingerprint FROM transactions WHERE tenant_id = %s AND account_id = %s AND fingerprint = ANY(%s)",
            (self._t, account_id, list(fingerprints)),
        )
        return {r["fingerprint"] for r in rs}


class PgBudgets(_Repo):
    async def get(self, budget_id: UUID) -> Budget | None:
        r = await self._s.fetch_one("SELECT * FROM budgets WHERE tenant_id = %s AND id = %s", (self._t, budget_id))
        return rows.budget(r) if r else None

    async def list(self) -> list[Budget]:
        rs = await self._s.fetch("SELECT * FROM budgets WHERE tenant_id = %s ORDER BY created_at, id", (self._t,))
        return [rows.budget(r) for r in rs]

    def _params(self, b: Budget) -> tuple[Any, ...]:
        return (b.category_id, b.period.value, b.limit.minor, b.limit.currency.code, b.rollover.value, b.starts_on,
                list(b.thresholds), b.created_at)  # fmt: skip

    async def add(self, budget: Budget) -> None:
        await self._s.execute(
            "INSERT INTO budgets (category_id, period, limit_minor, currency, rollover, starts_on, thresholds,"
            " created_at, tenant_id, id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (*self._params(budget), budget.tenant_id, budget.id),
        )

    async def update(self, budget: Budget) -> None:
        n = await self._s.execute(
            "UPDATE budgets SET category_id = %s, period = %s, limit_minor = %s, currency = %s, rollover = %s,"
            " starts_on = %s, thresholds = %s, created_at = %s WHERE tenant_id = %s AND id = %s",
            (*self._params(budget), self._t, budget.id),
        )
        if not n:
            raise NotFound("budget", budget.id)

    async def remove(self, budget_id: UUID) -> None:
        if not await self._s.execute("DELETE FROM budgets WHERE tenant_id = %s AND id = %s", (self._t, budget_id)):
            raise NotFound("budget", budget_id)

    async def announced_thresholds(self, budget_id: UUID, period_start: date) -> set[int]:
        rs = await self._s.fetch(
            "SELECT threshold FROM budget_announcements WHERE tenant_id = %s AND budget_id = %s AND period_start = %s",
            (self._t, budget_id, period_start),
        )
        return {r["threshold"] for r in rs}

    async def announce_threshold(self, budget_id: UUID, period_start: date, threshold: int) -> bool:
        n = await self._s.execute(
            "INSERT INTO budget_announcements (tenant_id, budget_id, period_start, threshold)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (self._t, budget_id, period_start, threshold),
        )
        return n == 1


# The first key of the two-key advisory lock on a tenant's rule order (the second is the tenant's).
_RULE_ORDER_LOCK = 0x5255


class PgRules(_Repo):
    """The unit's list of rules is read once (the unit's cache); a write of this repository
    forgets it."""

    def __init__(self, session: Session, patterns: PatternEngine) -> None:
        super().__init__(session)
        self._patterns = patterns
        self._listed: list[Rule] | None = None

    async def get(self, rule_id: UUID, *, for_update: bool = False) -> Rule | None:
        r = await self._s.fetch_one(
            "SELECT * FROM rules WHERE tenant_id = %s AND id = %s" + (" FOR NO KEY UPDATE" if for_update else ""),
            (self._t, rule_id),
        )
        return rows.rule(r, self._patterns) if r else None

    async def hold_order(self) -> None:
        # A lock on the tenant's rule set, not on rows: a new rule has no row to lock yet.
        await self._s.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_RULE_ORDER_LOCK, str(self._t)))

    async def list(self) -> list[Rule]:
        if self._listed is None:
            rs = await self._s.fetch("SELECT * FROM rules WHERE tenant_id = %s ORDER BY position, id", (self._t,))
            self._listed = [rows.rule(r, self._patterns) for r in rs]
        return list(self._listed)

    def _params(self, rule: Rule) -> tuple[Any, ...]:
        conditions = Jsonb(condition_to_data(rule.conditions))
        actions = Jsonb([action_to_data(a) for a in rule.actions])
        return (rule.name, rule.position, conditions, actions, rule.stop_processing, rule.enabled, rule.created_at)

    async def add(self, rule: Rule) -> None:
        self._listed = None
        await self._s.execute(
            "INSERT INTO rules (name, position, conditions, actions, stop_processing, enabled, created_at,"
            " tenant_id, id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (*self._params(rule), rule.tenant_id, rule.id),
        )

    async def update(self, rule: Rule) -> None:
        self._listed = None
        n = await self._s.execute(
            "UPDATE rules SET name = %s, position = %s, conditions = %s, actions = %s, stop_processing = %s,"
            " enabled = %s, created_at = %s WHERE tenant_id = %s AND id = %s",
            (*self._params(rule), self._t, rule.id),
        )
        if not n:
            raise NotFound("rule", rule.id)

    async def remove(self, rule_id: UUID) -> None:
        self._listed = None
        if not await self._s.execute("DELETE FROM rules WHERE tenant_id = %s AND id = %s", (self._t, rule_id)):
            raise NotFound("rule", rule_id)


class PgImports(_Repo):
    async def get(self, import_id: UUID) -> StatementImport | None:
        r = await self._s.fetch_one("SELECT * FROM imports WHERE tenant_id = %s AND id = %s", (self._t, import_id))
        return rows.statement_import(r) if r else None

    async def list(self) -> list[StatementImport]:
        rs = await self._s.fetch("SELECT * FROM imports WHERE tenant_id = %s ORDER BY created_at, id", (self._t,))
        return [rows.statement_import(r) for r in rs]

    def _params(self, i: StatementImport) -> tuple[Any, ...]:
        errors = Jsonb([{"line": e.line, "message": e.message} for e in i.errors])
        return (i.account_id, i.filename, i.status.value, i.total_rows, i.imported, i.duplicates, errors,
                i.created_at, i.completed_at, i.updated, rows.balance_check_json(i.balance_check))  # fmt: skip

    async def add(self, statement_import: StatementImport) -> None:
        await self._s.execute(
            "INSERT INTO imports (account_id, filename, status, total_rows, imported, duplicates, errors,"
            " created_at, completed_at, updated, balance_check, tenant_id, id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (*self._params(statement_import), statement_import.tenant_id, statement_import.id),
        )

    async def update(self, statement_import: StatementImport) -> None:
        n = await self._s.execute(
            "UPDATE imports SET account_id = %s, filename = %s, status = %s, total_rows = %s, imported = %s,"
            " duplicates = %s, errors = %s, created_at = %s, completed_at = %s, updated = %s, balance_check = %s"
            " WHERE tenant_id = %s AND id = %s",
            (*self._params(statement_import), self._t, statement_import.id),
        )
        if not n:
            raise NotFound("import", statement_import.id)

    async def save_source(self, import_id: UUID, fmt: str, content: bytes, options: dict[str, Any]) -> None:
        n = await self._s.execute(
            "UPDATE imports SET source = %s, source_format = %s, source_options = %s WHERE tenant_id = %s AND id = %s",
            (content, fmt, Jsonb(options), self._t, import_id),
        )
        if not n:
            raise NotFound("import", import_id)

    async def source(self, import_id: UUID) -> tuple[str, bytes, dict[str, Any]] | None:
        r = await self._s.fetch_one(
            "SELECT source, source_format, source_options FROM imports"
            " WHERE tenant_id = %s AND id = %s AND source IS NOT NULL",
            (self._t, import_id),
        )
        return None if r is None else (r["source_format"], bytes(r["source"]), dict(r["source_options"]))

    async def take_source(self, import_id: UUID) -> tuple[str, bytes, dict[str, Any]] | None:
        # The row lock makes a second taker wait; READ COMMITTED then re-checks ``source IS NOT
        # NULL`` on the committed row, so it finds the file gone (or takes it after a rollback).
        r = await self._s.fetch_one(
            "WITH kept AS (SELECT id, source, source_format, source_options FROM imports"
            " WHERE tenant_id = %s AND id = %s AND source IS NOT NULL FOR UPDATE)"
            " UPDATE imports i SET source = NULL, source_options = '{}' FROM kept"
            " WHERE i.tenant_id = %s AND i.id = kept.id"
            " RETURNING kept.source, kept.source_format, kept.source_options",
            (self._t, import_id, self._t),
        )
        return None if r is None else (r["source_format"], bytes(r["source"]), dict(r["source_options"]))


class PgJobs(_Repo):
    async def get(self, job_id: UUID) -> Job | None:
        r = await self._s.fetch_one("SELECT * FROM jobs WHERE tenant_id = %s AND id = %s", (self._t, job_id))
        return rows.job(r) if r else None

    async def add(self, job: Job) -> None:
        n = await self._s.execute(
            "INSERT INTO jobs (tenant_id, id, kind, status, params, result, error, created_at, completed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (job.tenant_id, job.id, job.kind, job.status.value, Jsonb(job.params),
             None if job.result is None else Jsonb(job.result), job.error, job.created_at, job.completed_at),
        )  # fmt: skip
        if not n:
            raise Conflict(f"job {job.id} exists")

    async def update(self, job: Job) -> None:
        n = await self._s.execute(
            "UPDATE jobs SET status = %s, params = %s, result = %s, error = %s, completed_at = %s"
            " WHERE tenant_id = %s AND id = %s",
            (job.status.value, Jsonb(job.params), None if job.result is None else Jsonb(job.result), job.error,
             job.completed_at, self._t, job.id),
        )  # fmt: skip
        if not n:
            raise NotFound("job", job.id)


class PgRuleSuggestions(_Repo):
    """The suggestions of the payees read by :meth:`find_many` are kept for the unit (with what
    it adds or updates), so :meth:`find` of one of them is not a round trip."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._read_keys: set[str] = set()  # payee keys whose every suggestion is in _kept
        self._kept: dict[tuple[str, UUID], RuleSuggestion] = {}

    def forget(self) -> None:
        self._read_keys = set()
        self._kept = {}

    def _keep(self, suggestion: RuleSuggestion) -> None:
        if suggestion.payee_key in self._read_keys:
            self._kept[suggestion.payee_key, suggestion.category_id] = suggestion

    async def get(self, suggestion_id: UUID, *, for_update: bool = False) -> RuleSuggestion | None:
        r = await self._s.fetch_one(
            "SELECT * FROM rule_suggestions WHERE tenant_id = %s AND id = %s"
            + (" FOR NO KEY UPDATE" if for_update else ""),
            (self._t, suggestion_id),
        )
        return rows.rule_suggestion(r) if r else None

    async def find(self, payee_key: str, category_id: UUID) -> RuleSuggestion | None:
        if payee_key in self._read_keys:
            return self._kept.get((payee_key, category_id))
        r = await self._s.fetch_one(
            "SELECT * FROM rule_suggestions WHERE tenant_id = %s AND payee_key = %s AND category_id = %s",
            (self._t, payee_key, category_id),
        )
        return rows.rule_suggestion(r) if r else None

    async def find_many(self, payee_keys: Collection[str]) -> list[RuleSuggestion]:
        wanted = sorted(set(payee_keys))
        if not wanted:
            return []
        rs = await self._s.fetch(
            "SELECT * FROM rule_suggestions WHERE tenant_id = %s AND payee_key = ANY(%s)", (self._t, wanted)
        )
        found = [rows.rule_suggestion(r) for r in rs]
        self._read_keys.update(wanted)
        self._kept.update(((s.payee_key, s.category_id), s) for s in found)
        return found

    async def add(self, suggestion: RuleSuggestion) -> None:
        s = suggestion
        n = await self._s.execute(
            "INSERT INTO rule_suggestions (tenant_id, id, payee_key, category_id, agreeing, total, status,"
            " created_at, decided_at, rule_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (s.tenant_id, s.id, s.payee_key, s.category_id, s.agreeing, s.total, s.status.value, s.created_at,
             s.decided_at, s.rule_id),
        )  # fmt: skip
        if not n:
            raise Conflict("a suggestion for this payee and category exists")
        self._keep(suggestion)

    async def update(self, suggestion: RuleSuggestion) -> None:
        s = suggestion
        n = await self._s.execute(
            "UPDATE rule_suggestions SET status = %s, decided_at = %s, rule_id = %s, agreeing = %s, total = %s"
            " WHERE tenant_id = %s AND id = %s",
            (s.status.value, s.decided_at, s.rule_id, s.agreeing, s.total, self._t, s.id),
        )
        if not n:
            raise NotFound("rule suggestion", s.id)
        self._keep(suggestion)

    async def list(self, status: SuggestionStatus | None = None) -> list[RuleSuggestion]:
        rs = await self._s.fetch(
            "SELECT * FROM rule_suggestions WHERE tenant_id = %s AND (%s::text IS NULL OR status = %s)"
            " ORDER BY created_at DESC, id DESC",
            (self._t, None if status is None else status.value, None if status is None else status.value),
        )
        return [rows.rule_suggestion(r) for r in rs]


class PgNotifications(_Repo):
    async def add(self, notification: Notification) -> bool:
        n = notification
        return (
            await self._s.execute(
                "INSERT INTO notifications (tenant_id, id, kind, title, body, data, created_at, read_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (n.tenant_id, n.id, n.kind, n.title, n.body, Jsonb(n.data), n.created_at, n.read_at),
            )
            == 1
        )

    async def list(self, limit: int, *, unread_only: bool = False) -> list[Notification]:
        rs = await self._s.fetch(
            "SELECT * FROM notifications WHERE tenant_id = %s AND (NOT %s OR read_at IS NULL)"
            " ORDER BY created_at DESC, id DESC LIMIT %s",
            (self._t, unread_only, limit),
        )
        return [rows.notification(r) for r in rs]

    async def mark_read(self, notification_id: UUID, at: datetime) -> Notification:
        r = await self._s.fetch_one(
            "UPDATE notifications SET read_at = coalesce(read_at, %s) WHERE tenant_id = %s AND id = %s RETURNING *",
            (at, self._t, notification_id),
        )
        if r is None:
            raise NotFound("notification", notification_id)
        return rows.notification(r)


class PgWebhooks(_Repo):
    _ENDPOINT = ("url", "event_types", "secret", "previous_secret", "previous_valid_until", "enabled",
                 "disabled_reason", "created_at")  # fmt: skip
    _DELIVERY = ("endpoint_id", "event_id", "event_type", "body", "status", "attempts", "next_attempt_at",
                 "last_attempt_at", "response_status", "response_body", "error", "created_at",
                 "redeliveries")  # fmt: skip

    @staticmethod
    def _endpoint_params(e: WebhookEndpoint) -> tuple[Any, ...]:
        return (e.url, list(e.event_types), e.secret, e.previous_secret, e.previous_valid_until, e.enabled,
                e.disabled_reason, e.created_at)  # fmt: skip

    @staticmethod
    def _delivery_params(d: WebhookDelivery) -> tuple[Any, ...]:
        return (d.endpoint_id, d.event_id, d.event_type, d.body, d.status.value, d.attempts, d.next_attempt_at,
                d.last_attempt_at, d.response_status, d.response_body, d.error, d.created_at,
                d.redeliveries)  # fmt: skip

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.tenant_id != self._t:
            raise NotFound("tenant", endpoint.tenant_id)
        columns = ", ".join(self._ENDPOINT)
        await self._s.execute(
            f"INSERT INTO webhook_endpoints (tenant_id, id, {columns}) VALUES (%s, %s{', %s' * len(self._ENDPOINT)})",
            (self._t, endpoint.id, *self._endpoint_params(endpoint)),
        )

    async def get_endpoint(self, endpoint_id: UUID) -> WebhookEndpoint | None:
        r = await self._s.fetch_one(
            "SELECT * FROM webhook_endpoints WHERE tenant_id = %s AND id = %s", (self._t, endpoint_id)
        )
        return rows.webhook_endpoint(r) if r else None

    async def list_endpoints(self) -> list[WebhookEndpoint]:
        rs = await self._s.fetch(
            "SELECT * FROM webhook_endpoints WHERE tenant_id = %s ORDER BY created_at, id", (self._t,)
        )
        return [rows.webhook_endpoint(r) for r in rs]

    async def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        sets = ", ".join(f"{c} = %s" for c in self._ENDPOINT)
        n = await self._s.execute(
            f"UPDATE webhook_endpoints SET {sets} WHERE tenant_id = %s AND id = %s",
            (*self._endpoint_params(endpoint), self._t, endpoint.id),
        )
        if not n:
            raise NotFound("webhook endpoint", endpoint.id)

    async def delete_endpoint(self, endpoint_id: UUID) -> None:
        n = await self._s.execute(
            "DELETE FROM webhook_endpoints WHERE tenant_id = %s AND id = %s", (self._t, endpoint_id)
        )
        if not n:
            raise NotFound("webhook endpoint", endpoint_id)

    async def add_delivery(self, delivery: WebhookDelivery) -> bool:
        if delivery.tenant_id != self._t:
            raise NotFound("tenant", delivery.tenant_id)
        columns = ", ".join(self._DELIVERY)
        return (
            await self._s.execute(
                f"INSERT INTO webhook_deliveries (tenant_id, id, {columns})"
                f" VALUES (%s, %s{', %s' * len(self._DELIVERY)}) ON CONFLICT DO NOTHING",
                (self._t, delivery.id, *self._delivery_params(delivery)),
            )
            == 1
        )

    async def get_delivery(self, delivery_id: UUID) -> WebhookDelivery | None:
        r = await self._s.fetch_one(
            "SELECT * FROM webhook_deliveries WHERE tenant_id = %s AND id = %s", (self._t, delivery_id)
        )
        return rows.webhook_delivery(r) if r else None

    async def update_delivery(self, delivery: WebhookDelivery) -> None:
        sets = ", ".join(f"{c} = %s" for c in self._DELIVERY)
        n = await self._s.execute(
            f"UPDATE webhook_deliveries SET {sets} WHERE tenant_id = %s AND id = %s",
            (*self._delivery_params(delivery), self._t, delivery.id),
        )
        if not n:
            raise NotFound("webhook delivery", delivery.id)

    async def list_deliveries(self, endpoint_id: UUID, limit: int) -> list[WebhookDelivery]:
        rs = await self._s.fetch(
            "SELECT * FROM webhook_deliveries WHERE tenant_id = %s AND endpoint_id = %s"
            " ORDER BY created_at DESC, id DESC LIMIT %s",
            (self._t, endpoint_id, limit),
        )
        return [rows.webhook_delivery(r) for r in rs]


class PgPayees(_Repo):
    """An entry read in the unit is read once (the unit's cache, until the transaction ends);
    what the unit writes is what a later read of that key returns."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        # Entries read or written (None: read, absent), until the transaction ends.
        self._kept: dict[str, PayeeMemoryEntry | None] = {}

    def forget(self) -> None:
        self._kept = {}

    async def get(self, payee_key: str) -> PayeeMemoryEntry | None:
        if payee_key not in self._kept:
            r = await self._s.fetch_one(
                "SELECT * FROM payee_memory WHERE tenant_id = %s AND payee_key = %s", (self._t, payee_key)
            )
            self._kept[payee_key] = rows.payee_entry(r) if r else None
        return self._kept[payee_key]

    async def get_many(self, payee_keys: Collection[str]) -> dict[str, PayeeMemoryEntry]:
        wanted = sorted(set(payee_keys))
        rs = await self._s.fetch(
            "SELECT * FROM payee_memory WHERE tenant_id = %s AND payee_key = ANY(%s)", (self._t, wanted)
        )
        found = {r["payee_key"]: rows.payee_entry(r) for r in rs}
        self._kept.update({key: found.get(key) for key in wanted})
        return found

    async def all(self) -> list[PayeeMemoryEntry]:
        rs = await self._s.fetch(
            'SELECT * FROM payee_memory WHERE tenant_id = %s ORDER BY payee_key COLLATE "C"', (self._t,)
        )
        return [rows.payee_entry(r) for r in rs]

    async def put(self, entry: PayeeMemoryEntry) -> None:
        await self.put_many([entry])

    async def put_many(self, entries: Collection[PayeeMemoryEntry]) -> None:
        # Nobody reads the results: the entries a unit puts one after the other (a batch of
        # corrections, row by row) go as one statement with its next statement or commit.
        for entry in entries:
            self._s.defer_merged("payee_memory", self._memory_upsert, entry)
            self._kept[entry.payee_key] = entry

    def _memory_upsert(self, entries: list[PayeeMemoryEntry]) -> tuple[LiteralString, Params]:
        last = {e.payee_key: e for e in entries}  # each entry is the whole state: the last one holds
        keys = sorted(last)
        recents = ["{" + ",".join(str(c) for c in last[k].recent) + "}" for k in keys]
        return (
            "INSERT INTO payee_memory (tenant_id, payee_key, recent, updated_at)"
            " SELECT %s, k, r::uuid[], u FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS e(k, r, u)"
            ' ORDER BY k COLLATE "C" ON CONFLICT (tenant_id, payee_key) DO UPDATE SET recent = EXCLUDED.recent,'
            " updated_at = EXCLUDED.updated_at",
            (self._t, keys, recents, [last[k].updated_at for k in keys]),
        )

    async def word_counts(self, words: Sequence[str]) -> dict[str, dict[UUID, float]]:
        out: dict[str, dict[UUID, float]] = {}
        if not words:
            return out
        # An index probe per word (a LATERAL subquery kept apart, ``OFFSET 0``), not ``word =
        # ANY(%s)``: before the table's first ANALYZE (right after a tenant's first lessons) the
        # planner kept ``= ANY`` as a filter over every word of the tenant, comparing each with
        # the whole list (words x rows: 56 ms for a batch's 2,600 words), and a plain join read
        # all the tenant's words for a line's three; probes cost the same whatever the statistics.
        found = await self._s.fetch(
            "SELECT p.word, p.category_id, p.weight FROM unnest(%s::text[]) AS w(word) CROSS JOIN LATERAL"
            " (SELECT word, category_id, weight FROM payee_words WHERE tenant_id = %s AND word = w.word OFFSET 0) p"
            " ORDER BY p.word, p.category_id",
            (sorted(set(words)), self._t),
        )
        for r in found:
            out.setdefault(r["word"], {})[r["category_id"]] = r["weight"]
        return out

    async def learn_words(self, words: Sequence[str], category_id: UUID, weight: float) -> None:
        # Nobody reads the results: deferred, they go with the unit's next statement or commit
        # (in order, so a later read of the words sees them).
        if not words:
            return
        distinct = sorted(set(words))
        if weight > 0:
            # The words a unit learns one line after the other go as one statement.
            self._s.defer_merged("payee_words", self._words_upsert, (distinct, category_id, weight))
            return
        # Unlearning: forget the counts that reach zero, lower the others — from the counts as
        # committed now, under their row locks (taken in word order, as learning takes them), so
        # units taking back the same words at once each lower what the one before them left.
        self._s.defer(_UNLEARN_WORDS, [(weight, distinct, self._t, category_id)])

    def _words_upsert(self, lessons: list[tuple[list[str], UUID, float]]) -> tuple[LiteralString, Params]:
        """Learned lines' words as one upsert: each (word, category) once, with its weights
        summed in the order learned, locked in (word, category) order as every learning and
        unlearning statement takes them."""
        summed: dict[tuple[str, UUID], float] = {}
        for distinct, category_id, weight in lessons:
            for word in distinct:
                summed[word, category_id] = summed.get((word, category_id), 0.0) + weight
        pairs = sorted(summed, key=lambda p: (p[0], str(p[1])))
        return (
            "INSERT INTO payee_words (tenant_id, word, category_id, weight)"
            " SELECT %s, w, c, x FROM unnest(%s::text[], %s::uuid[], %s::float8[]) AS l(w, c, x) ORDER BY w, c"
            " ON CONFLICT (tenant_id, word, category_id) DO UPDATE SET weight = payee_words.weight + EXCLUDED.weight",
            (self._t, [w for w, _ in pairs], [c for _, c in pairs], [summed[p] for p in pairs]),
        )


# Unlearning ``$2``'s words under ``$4`` by ``$1`` (negative), ``$3`` the tenant. Every row is
# read by a probe of the primary key, whatever the statistics (perf/README.md, "unlearn"):
# ``held`` locks each word's row from a LATERAL subquery over the sorted list — materialized,
# so its rows are locked in that order whatever the MERGE's join (two units taking back the
# same words cannot deadlock) — and the MERGE finds each held row again by its whole key taken
# from ``held``: no constant narrows the target but the tenant, so no plan scans the category's
# rows. ``word = ANY(list)`` did before the table's first ANALYZE (a filter over the category's
# rows, list x rows, in the generic plan of a prepared statement), and a DELETE and an UPDATE
# joined back by category and word hash-joined a scan of the whole table after it.
_UNLEARN_WORDS: LiteralString = (
    "WITH held AS MATERIALIZED (SELECT p.tenant_id, p.word, p.category_id, p.weight + %s::float8 AS left_over"
    " FROM unnest(%s::text[]) AS w(word) CROSS JOIN LATERAL (SELECT tenant_id, word, category_id, weight"
    " FROM payee_words WHERE tenant_id = %s AND category_id = %s AND word = w.word FOR UPDATE) p)"
    " MERGE INTO payee_words p USING held h"
    " ON p.tenant_id = h.tenant_id AND p.word = h.word AND p.category_id = h.category_id"
    " WHEN MATCHED AND h.left_over <= 1e-9 THEN DELETE"
    " WHEN MATCHED THEN UPDATE SET weight = h.left_over"
)


class PgProcessedTasks(_Repo):
    async def mark(self, task_id: UUID, name: str) -> bool:
        n = await self._s.execute(
            "INSERT INTO processed_tasks (tenant_id, task_id, name, processed_at) VALUES (%s, %s, %s, now())"
            " ON CONFLICT DO NOTHING",
            (self._t, task_id, name),
        )
        return n == 1


class PgIdentity(_Repo):
    async def get_tenant(self) -> Tenant | None:
        r = await self._s.fetch_one("SELECT * FROM tenants WHERE id = %s", (self._t,))
        return rows.tenant(r) if r else None

    async def add_tenant(self, tenant: Tenant) -> None:
        if tenant.id != self._t:
            raise NotFound("tenant", tenant.id)
        await self._s.execute(
            "INSERT INTO tenants (id, name, created_at) VALUES (%s, %s, %s)",
            (tenant.id, tenant.name, tenant.created_at),
        )

    async def add_user(self, user: User) -> None:
        await self._s.execute(
            "INSERT INTO users (tenant_id, id, email, name, created_at) VALUES (%s, %s, %s, %s, %s)",
            (self._t, user.id, user.email, user.name, user.created_at),
        )

    async def get_user(self, user_id: UUID) -> User | None:
        r = await self._s.fetch_one(
            "SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id AND m.tenant_id = %s WHERE u.id = %s",
            (self._t, user_id),
        )
        return rows.user(r) if r else None

    async def add_membership(self, membership: Membership) -> None:
        await self._s.execute(
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES (%s, %s, %s)"
            " ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role",
            (membership.tenant_id, membership.user_id, membership.role.value),
        )

    async def get_membership(self, user_id: UUID, *, for_share: bool = False) -> Membership | None:
        r = await self._s.fetch_one(
            "SELECT * FROM memberships WHERE tenant_id = %s AND user_id = %s" + (" FOR SHARE" if for_share else ""),
            (self._t, user_id),
        )
        return Membership(r["tenant_id"], r["user_id"], r["role"]) if r else None

    async def home_user_by_email(self, email: str) -> User | None:
        r = await self._s.fetch_one(
            "SELECT * FROM users WHERE tenant_id = %s AND email = %s", (self._t, email.strip().lower())
        )
        return rows.user(r) if r else None

    async def list_members(self, *, for_update: bool = False) -> list[Member]:
        rs = await self._s.fetch(
            "SELECT u.*, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = %s"
            " ORDER BY u.email, u.id" + (" FOR UPDATE OF m" if for_update else ""),
            (self._t,),
        )
        return [Member(rows.user(r), Role(r["role"])) for r in rs]

    async def remove_membership(self, user_id: UUID) -> None:
        n = await self._s.execute("DELETE FROM memberships WHERE tenant_id = %s AND user_id = %s", (self._t, user_id))
        if not n:
            raise NotFound("member", user_id)

    async def add_token(self, token: ApiToken) -> None:
        await self._s.execute(
            "INSERT INTO api_tokens (tenant_id, id, user_id, name, token_hash, role, created_at, revoked_at,"
            " last_four) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (token.tenant_id, token.id, token.user_id, token.name, token.token_hash, token.role.value,
             token.created_at, token.revoked_at, token.last_four),
        )  # fmt: skip

    async def get_token(self, token_id: UUID) -> ApiToken | None:
        r = await self._s.fetch_one("SELECT * FROM api_tokens WHERE tenant_id = %s AND id = %s", (self._t, token_id))
        return rows.token(r) if r else None

    async def list_tokens(self, user_id: UUID | None = None) -> list[ApiToken]:
        rs = await self._s.fetch(
            "SELECT * FROM api_tokens WHERE tenant_id = %s AND (%s::uuid IS NULL OR user_id = %s)"
            " ORDER BY created_at DESC, id DESC",
            (self._t, user_id, user_id),
        )
        return [rows.token(r) for r in rs]

    async def update_token(self, token: ApiToken) -> None:
        n = await self._s.execute(
            "UPDATE api_tokens SET name = %s, role = %s, revoked_at = %s WHERE tenant_id = %s AND id = %s",
            (token.name, token.role.value, token.revoked_at, self._t, token.id),
        )
        if not n:
            raise NotFound("token", token.id)


class PgRates(_Repo):
    """The tenant's rates and the global defaults (``tenant_id IS NULL``). Global rows are
    written in the ``rates`` row-security scope, set for the statement's transaction only."""

    async def put(self, rates: Sequence[Rate]) -> int:
        own = [r for r in rates if not r.shared]
        shared = [r for r in rates if r.shared]
        if own:
            await self._s.execute(
                "INSERT INTO exchange_rates (tenant_id, base, quote, rate_date, rate, source)"
                " SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::date[], %s::numeric[], %s::text[])"
                " ON CONFLICT (tenant_id, rate_date, base, quote) WHERE tenant_id IS NOT NULL"
                " DO UPDATE SET rate = excluded.rate, source = excluded.source, updated_at = now()",
                [self._t, *_rate_columns(own)],
            )
        if shared:
            await self._s.execute("SELECT set_config('valorize.scope', 'rates', true)")
            try:
                await self._s.execute(
                    "INSERT INTO exchange_rates (tenant_id, base, quote, rate_date, rate, source)"
                    " SELECT NULL, * FROM unnest(%s::text[], %s::text[], %s::date[], %s::numeric[], %s::text[])"
                    " ON CONFLICT (rate_date, base, quote) WHERE tenant_id IS NULL"
                    " DO UPDATE SET rate = excluded.rate, source = excluded.source, updated_at = now()",
                    _rate_columns(shared),
                )
            finally:
                await self._s.execute("SELECT set_config('valorize.scope', '', true)")
        return len(rates)

    async def between(self, start: date, end: date, currencies: Collection[str] | None = None) -> list[Rate]:
        query = (
            "SELECT base, quote, rate_date, rate, source, tenant_id IS NULL AS shared FROM exchange_rates"
            " WHERE (tenant_id = %s OR tenant_id IS NULL) AND rate_date BETWEEN %s AND %s"
        )
        params: list[Any] = [self._t, start, end]
        if currencies is not None:
            query += " AND base = ANY(%s) AND quote = ANY(%s)"
            params += [sorted(currencies), sorted(currencies)]
        rs = await self._s.fetch(query + " ORDER BY rate_date, base, quote, tenant_id IS NOT NULL", params)
        return [rows.rate(r) for r in rs]

    async def reporting_currency(self) -> Currency | None:
        r = await self._s.fetch_one("SELECT reporting_currency FROM tenants WHERE id = %s", (self._t,))
        return None if r is None or r["reporting_currency"] is None else currency(r["reporting_currency"])

    async def set_reporting_currency(self, code: Currency | None) -> None:
        await self._s.execute(
            "UPDATE tenants SET reporting_currency = %s WHERE id = %s", (None if code is None else code.code, self._t)
        )


def _rate_columns(rates: Sequence[Rate]) -> list[list[Any]]:
    return [
        [r.base.code for r in rates],
        [r.quote.code for r in rates],
        [r.on for r in rates],
        [r.value for r in rates],
        [r.source for r in rates],
    ]


class PgSchedules(_Repo):
    async def get(self, schedule_id: UUID, *, for_update: bool = False) -> Schedule | None:
        r = await self._s.fetch_one(
            "SELECT * FROM schedules WHERE tenant_id = %s AND id = %s" + (" FOR NO KEY UPDATE" if for_update else ""),
            (self._t, schedule_id),
        )
        return rows.schedule(r) if r else None

    async def due(self, day: date) -> list[Schedule]:
        rs = await self._s.fetch(
            "SELECT * FROM schedules WHERE tenant_id = %s AND active AND next_due <= %s ORDER BY id", (self._t, day)
        )
        return [rows.schedule(r) for r in rs]

    async def add(self, schedule: Schedule) -> None:
        await self._s.execute(
            "INSERT INTO schedules (account_id, name, payee, amount_minor, tolerance_minor, currency, splits, tags,"
            " rule, starts_on, next_due, window_days, active, created_at, updated_at, tenant_id, id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (*rows.schedule_params(schedule), schedule.tenant_id, schedule.id),
        )

    async def update(self, schedule: Schedule) -> None:
        n = await self._s.execute(
            "UPDATE schedules SET account_id = %s, name = %s, payee = %s, amount_minor = %s, tolerance_minor = %s,"
            " currency = %s, splits = %s, tags = %s, rule = %s, starts_on = %s, next_due = %s, window_days = %s,"
            " active = %s, created_at = %s, updated_at = %s WHERE tenant_id = %s AND id = %s",
            (*rows.schedule_params(schedule), self._t, schedule.id),
        )
        if not n:
            raise NotFound("schedule", schedule.id)

    async def remove(self, schedule_id: UUID) -> None:
        if not await self._s.execute("DELETE FROM schedules WHERE tenant_id = %s AND id = %s", (self._t, schedule_id)):
            raise NotFound("schedule", schedule_id)

    async def record(self, occurrence: ScheduleOccurrence) -> bool:
        o = occurrence
        n = await self._s.execute(
            "INSERT INTO schedule_occurrences (tenant_id, schedule_id, due_on, transaction_id, handling)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (self._t, o.schedule_id, o.due_on, o.transaction_id, o.handling.value),
        )
        return n == 1

    async def occurrences(self, schedule_id: UUID) -> list[ScheduleOccurrence]:
        rs = await self._s.fetch(
            "SELECT * FROM schedule_occurrences WHERE tenant_id = %s AND schedule_id = %s ORDER BY due_on",
            (self._t, schedule_id),
        )
        return [ScheduleOccurrence(r["schedule_id"], r["due_on"], r["transaction_id"], r["handling"]) for r in rs]

    async def list(self) -> list[Schedule]:
        rs = await self._s.fetch("SELECT * FROM schedules WHERE tenant_id = %s ORDER BY lower(name), id", (self._t,))
        return [rows.schedule(r) for r in rs]


class PgSubscriptions(_Repo):
    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> TrackedSubscription | None:
        r = await self._s.fetch_one(
            "SELECT * FROM subscriptions WHERE tenant_id = %s AND id = %s"
            + (" FOR NO KEY UPDATE" if for_update else ""),
            (self._t, subscription_id),
        )
        return rows.subscription(r) if r else None

    async def add(self, subscription: TrackedSubscription) -> None:
        x = subscription
        n = await self._s.execute(
            "INSERT INTO subscriptions (tenant_id, id, account_id, payee_key, payee, cadence, amount_minor, currency,"
            " status, last_charged, decided_at, schedule_id, stopped_on)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (x.tenant_id, x.id, x.account_id, x.payee_key, x.payee, x.cadence.value, x.amount.minor,
             x.amount.currency.code, x.status.value, x.last_charged, x.decided_at, x.schedule_id, x.stopped_on),
        )  # fmt: skip
        if not n:
            raise Conflict("this subscription was decided before")

    async def update(self, subscription: TrackedSubscription) -> None:
        x = subscription
        n = await self._s.execute(
            "UPDATE subscriptions SET amount_minor = %s, status = %s, last_charged = %s, schedule_id = %s,"
            " stopped_on = %s WHERE tenant_id = %s AND id = %s",
            (x.amount.minor, x.status.value, x.last_charged, x.schedule_id, x.stopped_on, self._t, x.id),
        )
        if not n:
            raise NotFound("subscription", x.id)

    async def list(self) -> list[TrackedSubscription]:
        rs = await self._s.fetch("SELECT * FROM subscriptions WHERE tenant_id = %s ORDER BY payee_key, id", (self._t,))
        return [rows.subscription(r) for r in rs]


class PgBalanceAlerts(_Repo):
    async def put(self, alert: BalanceAlert) -> None:
        await self._s.execute(
            "INSERT INTO balance_alerts (tenant_id, account_id, threshold_minor, days) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (tenant_id, account_id) DO UPDATE SET threshold_minor = EXCLUDED.threshold_minor,"
            " days = EXCLUDED.days",
            (self._t, alert.account_id, alert.threshold_minor, alert.days),
        )

    async def remove(self, account_id: UUID) -> None:
        n = await self._s.execute(
            "DELETE FROM balance_alerts WHERE tenant_id = %s AND account_id = %s", (self._t, account_id)
        )
        if not n:
            raise NotFound("balance alert", account_id)

    async def announce(self, account_id: UUID, below_on: date, threshold_minor: int) -> bool:
        n = await self._s.execute(
            "INSERT INTO balance_alert_announcements (tenant_id, account_id, below_on, threshold_minor)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (self._t, account_id, below_on, threshold_minor),
        )
        return n == 1

    async def list(self) -> list[BalanceAlert]:
        rs = await self._s.fetch("SELECT * FROM balance_alerts WHERE tenant_id = %s ORDER BY account_id", (self._t,))
        return [BalanceAlert(r["account_id"], r["threshold_minor"], r["days"]) for r in rs]
