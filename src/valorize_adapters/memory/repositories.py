"""In-memory repositories over one tenant's staged :class:`TenantData`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from valorize_adapters.memory.store import MemoryStore, TenantData
from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.categories import Category
from valorize_core.model.errors import Conflict, NotFound, ValidationError
from valorize_core.model.forecast import BalanceAlert
from valorize_core.model.identity import ApiToken, Member, Membership, Tenant, User
from valorize_core.model.jobs import Job
from valorize_core.model.listing import Page, PageKey, TransactionFilter, sort_key
from valorize_core.model.money import Currency, currency
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rates import Rate
from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.model.rules import Rule
from valorize_core.model.schedules import Schedule, ScheduleOccurrence
from valorize_core.model.statements.imports import ImportStatus, StatementImport
from valorize_core.model.statements.matching import MatchScope
from valorize_core.model.subscriptions import TrackedSubscription
from valorize_core.model.transaction_view import ViewPage, transaction_view
from valorize_core.model.transactions import Split, Transaction, TransactionStatus
from valorize_core.model.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "MemoryAccounts",
    "MemoryBalanceAlerts",
    "MemoryBudgets",
    "MemoryCategories",
    "MemoryIdentity",
    "MemoryImports",
    "MemoryJobs",
    "MemoryNotifications",
    "MemoryPayees",
    "MemoryProcessedTasks",
    "MemoryRuleSuggestions",
    "MemoryRules",
    "MemorySchedules",
    "MemorySubscriptions",
    "MemoryTransactions",
]


def _by_name(items: Sequence[Account] | Sequence[Category]) -> list:  # type: ignore[type-arg]
    return sorted(items, key=lambda x: (x.name.lower(), x.id))  # as SQL: ORDER BY lower(name), id


class _Tenant:
    def __init__(self, data: TenantData, tenant_id: UUID) -> None:
        self._data = data
        self._tenant_id = tenant_id

    def _own(self, entity_tenant: UUID) -> None:
        if entity_tenant != self._tenant_id:
            raise NotFound("tenant", entity_tenant)


class MemoryAccounts(_Tenant):
    """Accounts of one tenant."""

    async def get(self, account_id: UUID) -> Account | None:
        return self._data.accounts.get(account_id)

    async def lock(self, account_ids: Sequence[UUID]) -> list[Account]:
        # Units of one tenant already run one at a time (the store's tenant lock).
        return [self._data.accounts[i] for i in sorted(set(account_ids)) if i in self._data.accounts]

    async def list(self) -> list[Account]:
        return _by_name(list(self._data.accounts.values()))

    def _unique_name(self, account: Account) -> None:
        for other in self._data.accounts.values():
            if other.id != account.id and other.name.casefold() == account.name.casefold():
                raise Conflict("an account with that name already exists")

    async def add(self, account: Account) -> None:
        self._own(account.tenant_id)
        if account.id in self._data.accounts:
            raise Conflict(f"account {account.id} exists")
        self._unique_name(account)
        self._data.accounts[account.id] = account

    async def update(self, account: Account) -> None:
        current = self._data.accounts.get(account.id)
        if current is None:
            raise NotFound("account", account.id)
        self._unique_name(account)
        self._data.accounts[account.id] = replace(account, balance=current.balance)

    async def remove(self, account_id: UUID) -> None:
        if any(t.account_id == account_id for t in self._data.transactions.values()):
            raise Conflict("the account has transactions")
        if self._data.accounts.pop(account_id, None) is None:
            raise NotFound("account", account_id)
        for sub in [x for x in self._data.subscriptions.values() if x.account_id == account_id]:
            del self._data.subscriptions[sub.id]  # as ON DELETE CASCADE
        self._data.balance_alerts.pop(account_id, None)
        self._data.balance_announced = {a for a in self._data.balance_announced if a[0] != account_id}
        for schedule in [s for s in self._data.schedules.values() if s.account_id == account_id]:
            del self._data.schedules[schedule.id]  # as ON DELETE CASCADE (and its occurrences)
            for key in [k for k in self._data.occurrences if k[0] == schedule.id]:
                del self._data.occurrences[key]

    async def apply_balance_delta(self, account_id: UUID, delta_minor: int) -> Account:
        current = self._data.accounts.get(account_id)
        if current is None:
            raise NotFound("account", account_id)
        updated = current.with_balance_delta(delta_minor)
        self._data.accounts[account_id] = updated
        return updated


class MemoryCategories(_Tenant):
    """Categories of one tenant."""

    async def get(self, category_id: UUID) -> Category | None:
        return self._data.categories.get(category_id)

    async def list(self, *, for_update: bool = False, for_share: bool = False) -> list[Category]:
        # Units of work of a tenant run one at a time here: holding is implicit.
        return _by_name(list(self._data.categories.values()))

    def _check(self, category: Category) -> None:
        if category.parent_id is not None and category.parent_id not in self._data.categories:
            raise NotFound("category", category.parent_id)
        for other in self._data.categories.values():
            if (
                other.id != category.id
                and other.parent_id == category.parent_id
                and other.name.casefold() == category.name.casefold()
            ):
                raise Conflict("a sibling category already has that name")

    async def add(self, category: Category) -> None:
        self._own(category.tenant_id)
        if category.id in self._data.categories:
            raise Conflict(f"category {category.id} exists")
        self._check(category)
        self._data.categories[category.id] = category

    async def update(self, category: Category) -> None:
        if category.id not in self._data.categories:
            raise NotFound("category", category.id)
        self._check(category)
        self._data.categories[category.id] = category

    async def remove(self, category_id: UUID) -> None:
        if category_id not in self._data.categories:
            raise NotFound("category", category_id)
        data = self._data
        if (
            any(c.parent_id == category_id for c in data.categories.values())
            or any(s.category_id == category_id for t in data.transactions.values() for s in t.splits)
            or any(b.category_id == category_id for b in data.budgets.values())
        ):
            raise Conflict("still in use (categories)")
        del data.categories[category_id]
        for suggestion in [s for s in data.rule_suggestions.values() if s.category_id == category_id]:
            del data.rule_suggestions[suggestion.id]  # as ON DELETE CASCADE
        for word, counts in [(w, c) for w, c in data.payee_words.items() if any(k == category_id for k, _ in c)]:
            left = tuple((k, n) for k, n in counts if k != category_id)  # as ON DELETE CASCADE
            if left:
                data.payee_words[word] = left
            else:
                del data.payee_words[word]


def _dedup_keys(tx: Transaction) -> list[tuple[UUID, str, str]]:
    """The keys no two transactions of one account share: bank id and fingerprint."""
    keys = []
    if tx.external_id is not None:
        keys.append((tx.account_id, "external_id", tx.external_id))
    if tx.fingerprint is not None:
        keys.append((tx.account_id, "fingerprint", tx.fingerprint))
    return keys


class MemoryTransactions(_Tenant):
    """Transactions of one tenant."""

    def _check(self, tx: Transaction) -> None:
        self._own(tx.tenant_id)
        account = self._data.accounts.get(tx.account_id)
        if account is None or account.currency != tx.amount.currency:
            raise NotFound("account", tx.account_id)
        if tx.import_id is not None and tx.import_id not in self._data.imports:
            raise NotFound("import", tx.import_id)
        for split in tx.splits:
            if split.category_id is not None and split.category_id not in self._data.categories:
                raise NotFound("category", split.category_id)
        keys = self._data.transaction_keys
        for key in _dedup_keys(tx):
            other = self._data.transactions.get(keys.get(key, tx.id))
            if other is not None and other.id != tx.id and key in _dedup_keys(other):
                what = "bank id" if key[1] == "external_id" else "fingerprint"
                raise Conflict(f"a transaction with that {what} exists in the account")

    def _index(self, tx: Transaction) -> None:
        for key in _dedup_keys(tx):
            self._data.transaction_keys[key] = tx.id

    def _unindex(self, tx: Transaction) -> None:
        keys = self._data.transaction_keys
        for key in _dedup_keys(tx):
            if keys.get(key) == tx.id:
                del keys[key]

    async def get(self, transaction_id: UUID) -> Transaction | None:
        return self._data.transactions.get(transaction_id)

    async def get_many(self, transaction_ids: Sequence[UUID]) -> list[Transaction]:
        found = self._data.transactions
        return [found[i] for i in sorted(set(transaction_ids)) if i in found]

    async def lock(self, transaction_ids: Sequence[UUID]) -> list[Transaction]:
        # Units of one tenant already run one at a time (the store's tenant lock).
        found = self._data.transactions
        return [found[i] for i in sorted(set(transaction_ids)) if i in found]

    async def add(self, transaction: Transaction) -> None:
        if transaction.id in self._data.transactions:
            raise Conflict(f"transaction {transaction.id} exists")
        self._check(transaction)
        self._data.transactions[transaction.id] = transaction
        self._index(transaction)

    async def add_many(self, transactions: Sequence[Transaction]) -> None:
        staged, keys = dict(self._data.transactions), dict(self._data.transaction_keys)
        try:
            for tx in transactions:
                await self.add(tx)
        except BaseException:
            self._data.transactions, self._data.transaction_keys = staged, keys
            raise

    async def update(self, transaction: Transaction) -> None:
        stored = self._data.transactions.get(transaction.id)
        if stored is None:
            raise NotFound("transaction", transaction.id)
        self._check(transaction)
        self._unindex(stored)
        self._data.transactions[transaction.id] = transaction
        self._index(transaction)

    async def update_many(self, transactions: Sequence[Transaction]) -> None:
        staged, keys = dict(self._data.transactions), dict(self._data.transaction_keys)
        try:
            for tx in transactions:
                await self.update(tx)
        except BaseException:
            self._data.transactions, self._data.transaction_keys = staged, keys
            raise

    async def remove(self, transaction_id: UUID) -> None:
        stored = self._data.transactions.pop(transaction_id, None)
        if stored is None:
            raise NotFound("transaction", transaction_id)
        self._unindex(stored)

    async def page(self, filter: TransactionFilter, after: PageKey | None, limit: int) -> Page:
        rows = sorted((t for t in self._data.transactions.values() if filter.matches(t)), key=sort_key, reverse=True)
        if after is not None:
            rows = [t for t in rows if sort_key(t) < after]
        items = rows[:limit]
        more = len(rows) > limit
        return Page(items, sort_key(items[-1]) if more and items else None)

    async def page_view(self, filter: TransactionFilter, after: PageKey | None, limit: int) -> ViewPage:
        page = await self.page(filter, after, limit)
        return ViewPage([transaction_view(t) for t in page.items], page.next_key)

    async def all(self, filter: TransactionFilter) -> list[Transaction]:
        return sorted((t for t in self._data.transactions.values() if filter.matches(t)), key=sort_key)

    async def match_candidates(self, account_id: UUID, scope: MatchScope) -> list[Transaction]:
        held = self._data.transactions.values()
        return sorted((t for t in held if t.account_id == account_id and scope.admits(t)), key=sort_key)

    async def sum_outside_balance(self, account_id: UUID, as_of: date, pending_from: date) -> int:
        return sum(
            t.amount.minor
            for t in self._data.transactions.values()
            if t.account_id == account_id
            and (
                t.booked_on > as_of or (t.status is TransactionStatus.PENDING and pending_from <= t.booked_on <= as_of)
            )
        )

    async def count_for_account(self, account_id: UUID) -> int:
        return sum(1 for t in self._data.transactions.values() if t.account_id == account_id)

    async def count_for_category(self, category_id: UUID) -> int:
        return sum(1 for t in self._data.transactions.values() if any(s.category_id == category_id for s in t.splits))

    async def clear_category(self, category_id: UUID) -> list[UUID]:
        touched = []
        for tx in list(self._data.transactions.values()):
            if any(s.category_id == category_id for s in tx.splits):
                splits = tuple(Split(None, s.amount, s.memo) if s.category_id == category_id else s for s in tx.splits)
                self._data.transactions[tx.id] = replace(tx, splits=splits)
                touched.append(tx.id)
        return sorted(touched)

    async def transfer_legs(self, transfer_id: UUID) -> list[Transaction]:
        return sorted((t for t in self._data.transactions.values() if t.transfer_id == transfer_id), key=lambda t: t.id)

    async def existing_external_ids(self, account_id: UUID, external_ids: Sequence[str]) -> set[str]:
        wanted = set(external_ids)
        return {
            t.external_id
            for t in self._data.transactions.values()
            if t.account_id == account_id and t.external_id in wanted and t.external_id is not None
        }

    async def existing_fingerprints(self, account_id: UUID, fingerprints: Sequence[str]) -> set[str]:
        wanted = set(fingerprints)
        return {
            t.fingerprint
            for t in self._data.transactions.values()
            if t.account_id == account_id and t.fingerprint in wanted and t.fingerprint is not None
        }


class MemoryBudgets(_Tenant):
    """Budgets of one tenant."""

    async def get(self, budget_id: UUID) -> Budget | None:
        return self._data.budgets.get(budget_id)

    async def list(self) -> list[Budget]:
        return sorted(self._data.budgets.values(), key=lambda b: (b.created_at, b.id))

    async def add(self, budget: Budget) -> None:
        self._own(budget.tenant_id)
        if budget.category_id not in self._data.categories:
            raise NotFound("category", budget.category_id)
        if budget.id in self._data.budgets:
            raise Conflict(f"budget {budget.id} exists")
        self._unique(budget)
        self._data.budgets[budget.id] = budget

    def _unique(self, budget: Budget) -> None:
        for other in self._data.budgets.values():
            if other.id != budget.id and (other.category_id, other.period) == (budget.category_id, budget.period):
                raise Conflict("the category already has a budget for that period")

    async def update(self, budget: Budget) -> None:
        if budget.id not in self._data.budgets:
            raise NotFound("budget", budget.id)
        if budget.category_id not in self._data.categories:
            raise NotFound("category", budget.category_id)
        self._unique(budget)
        self._data.budgets[budget.id] = budget

    async def remove(self, budget_id: UUID) -> None:
        if self._data.budgets.pop(budget_id, None) is None:
            raise NotFound("budget", budget_id)
        self._data.announced = {a for a in self._data.announced if a[0] != budget_id}

    async def announced_thresholds(self, budget_id: UUID, period_start: date) -> set[int]:
        return {t for b, p, t in self._data.announced if b == budget_id and p == period_start}

    async def announce_threshold(self, budget_id: UUID, period_start: date, threshold: int) -> bool:
        key = (budget_id, period_start, threshold)
        if key in self._data.announced:
            return False
        self._data.announced.add(key)
        return True


class MemoryRules(_Tenant):
    """Rules of one tenant."""

    async def hold_order(self) -> None:
        # Units of work of a tenant run one at a time here: the order is held already.
        return None

    async def get(self, rule_id: UUID, *, for_update: bool = False) -> Rule | None:
        # Units of work of a tenant run one at a time here: holding is implicit.
        return self._data.rules.get(rule_id)

    async def list(self) -> list[Rule]:
        return sorted(self._data.rules.values(), key=lambda r: (r.position, r.id))

    async def add(self, rule: Rule) -> None:
        self._own(rule.tenant_id)
        if rule.id in self._data.rules:
            raise Conflict(f"rule {rule.id} exists")
        self._data.rules[rule.id] = rule

    async def update(self, rule: Rule) -> None:
        if rule.id not in self._data.rules:
            raise NotFound("rule", rule.id)
        self._data.rules[rule.id] = rule

    async def remove(self, rule_id: UUID) -> None:
        if self._data.rules.pop(rule_id, None) is None:
            raise NotFound("rule", rule_id)


_FINISHED = frozenset({ImportStatus.COMPLETED, ImportStatus.FAILED})


class MemoryImports(_Tenant):
    """Statement imports of one tenant."""

    async def get(self, import_id: UUID) -> StatementImport | None:
        return self._data.imports.get(import_id)

    async def list(self) -> list[StatementImport]:
        return sorted(self._data.imports.values(), key=lambda i: (i.created_at, i.id))

    async def add(self, statement_import: StatementImport) -> None:
        self._own(statement_import.tenant_id)
        if statement_import.account_id not in self._data.accounts:
            raise NotFound("account", statement_import.account_id)
        if statement_import.id in self._data.imports:
            raise Conflict(f"import {statement_import.id} exists")
        self._data.imports[statement_import.id] = statement_import

    async def update(self, statement_import: StatementImport) -> None:
        if statement_import.id not in self._data.imports:
            raise NotFound("import", statement_import.id)
        if statement_import.status in _FINISHED and statement_import.id in self._data.sources:
            raise ValidationError("rejected by the database: imports_finished_without_source")
        self._data.imports[statement_import.id] = statement_import

    async def save_source(self, import_id: UUID, fmt: str, content: bytes, options: dict[str, Any]) -> None:
        if import_id not in self._data.imports:
            raise NotFound("import", import_id)
        self._data.sources[import_id] = (fmt, bytes(content), dict(options))

    async def source(self, import_id: UUID) -> tuple[str, bytes, dict[str, Any]] | None:
        return self._data.sources.get(import_id)

    async def take_source(self, import_id: UUID) -> tuple[str, bytes, dict[str, Any]] | None:
        return self._data.sources.pop(import_id, None)  # units of one tenant run one at a time


class MemoryJobs(_Tenant):
    """Background jobs of one tenant."""

    async def get(self, job_id: UUID) -> Job | None:
        return self._data.jobs.get(job_id)

    async def add(self, job: Job) -> None:
        self._own(job.tenant_id)
        if job.id in self._data.jobs:
            raise Conflict(f"job {job.id} exists")
        self._data.jobs[job.id] = job

    async def update(self, job: Job) -> None:
        if job.id not in self._data.jobs:
            raise NotFound("job", job.id)
        self._data.jobs[job.id] = job


class MemoryRuleSuggestions(_Tenant):
    """Rule suggestions of one tenant."""

    async def get(self, suggestion_id: UUID, *, for_update: bool = False) -> RuleSuggestion | None:
        # Units of work of a tenant run one at a time here: holding is implicit.
        return self._data.rule_suggestions.get(suggestion_id)

    async def find(self, payee_key: str, category_id: UUID) -> RuleSuggestion | None:
        return next((s for s in self._data.rule_suggestions.values()
                     if s.payee_key == payee_key and s.category_id == category_id), None)  # fmt: skip

    async def find_many(self, payee_keys: Collection[str]) -> list[RuleSuggestion]:
        wanted = set(payee_keys)
        return [s for s in self._data.rule_suggestions.values() if s.payee_key in wanted]

    async def add(self, suggestion: RuleSuggestion) -> None:
        self._own(suggestion.tenant_id)
        if suggestion.category_id not in self._data.categories:
            raise NotFound("category", suggestion.category_id)
        if suggestion.id in self._data.rule_suggestions or await self.find(
            suggestion.payee_key, suggestion.category_id
        ):
            raise Conflict("a suggestion for this payee and category exists")
        self._data.rule_suggestions[suggestion.id] = suggestion

    async def update(self, suggestion: RuleSuggestion) -> None:
        if suggestion.id not in self._data.rule_suggestions:
            raise NotFound("rule suggestion", suggestion.id)
        self._data.rule_suggestions[suggestion.id] = suggestion

    async def list(self, status: SuggestionStatus | None = None) -> list[RuleSuggestion]:
        found = [s for s in self._data.rule_suggestions.values() if status is None or s.status is status]
        return sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)


class MemoryNotifications(_Tenant):
    """Notifications of one tenant."""

    async def add(self, notification: Notification) -> bool:
        self._own(notification.tenant_id)
        if notification.id in self._data.notifications:
            return False
        self._data.notifications[notification.id] = notification
        return True

    async def list(self, limit: int, *, unread_only: bool = False) -> list[Notification]:
        found = [n for n in self._data.notifications.values() if not (unread_only and n.read_at is not None)]
        found.sort(key=lambda n: (n.created_at, n.id), reverse=True)
        return found[:limit]

    async def mark_read(self, notification_id: UUID, at: datetime) -> Notification:
        found = self._data.notifications.get(notification_id)
        if found is None:
            raise NotFound("notification", notification_id)
        if found.read_at is None:
            found = replace(found, read_at=at)
            self._data.notifications[notification_id] = found
        return found


_FORGOTTEN = 1e-9  # a word count at or below this is gone (as in the PostgreSQL adapter)


class MemoryWebhooks(_Tenant):
    """Webhook endpoints and deliveries of one tenant."""

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._own(endpoint.tenant_id)
        if endpoint.id in self._data.webhook_endpoints:
            raise Conflict(f"webhook endpoint {endpoint.id} exists")
        self._data.webhook_endpoints[endpoint.id] = endpoint

    async def get_endpoint(self, endpoint_id: UUID) -> WebhookEndpoint | None:
        return self._data.webhook_endpoints.get(endpoint_id)

    async def list_endpoints(self) -> list[WebhookEndpoint]:
        return sorted(self._data.webhook_endpoints.values(), key=lambda e: (e.created_at, e.id))

    async def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        if endpoint.id not in self._data.webhook_endpoints:
            raise NotFound("webhook endpoint", endpoint.id)
        self._data.webhook_endpoints[endpoint.id] = endpoint

    async def delete_endpoint(self, endpoint_id: UUID) -> None:
        if self._data.webhook_endpoints.pop(endpoint_id, None) is None:
            raise NotFound("webhook endpoint", endpoint_id)
        for key in [k for k, d in self._data.webhook_deliveries.items() if d.endpoint_id == endpoint_id]:
            del self._data.webhook_deliveries[key]

    async def add_delivery(self, delivery: WebhookDelivery) -> bool:
        self._own(delivery.tenant_id)
        if delivery.endpoint_id not in self._data.webhook_endpoints:
            raise NotFound("webhook endpoint", delivery.endpoint_id)
        if delivery.id in self._data.webhook_deliveries:
            return False
        self._data.webhook_deliveries[delivery.id] = delivery
        return True

    async def get_delivery(self, delivery_id: UUID) -> WebhookDelivery | None:
        return self._data.webhook_deliveries.get(delivery_id)

    async def update_delivery(self, delivery: WebhookDelivery) -> None:
        if delivery.id not in self._data.webhook_deliveries:
            raise NotFound("webhook delivery", delivery.id)
        self._data.webhook_deliveries[delivery.id] = delivery

    async def list_deliveries(self, endpoint_id: UUID, limit: int) -> list[WebhookDelivery]:
        found = [d for d in self._data.webhook_deliveries.values() if d.endpoint_id == endpoint_id]
        found.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return found[:limit]


class MemoryPayees(_Tenant):
    """Payee memory of one tenant."""

    async def get(self, payee_key: str) -> PayeeMemoryEntry | None:
        return self._data.payees.get(payee_key)

    async def get_many(self, payee_keys: Collection[str]) -> dict[str, PayeeMemoryEntry]:
        found = self._data.payees
        return {key: found[key] for key in payee_keys if key in found}

    async def all(self) -> list[PayeeMemoryEntry]:
        return [self._data.payees[k] for k in sorted(self._data.payees)]

    async def put(self, entry: PayeeMemoryEntry) -> None:
        self._data.payees[entry.payee_key] = entry

    async def word_counts(self, words: Sequence[str]) -> dict[str, dict[UUID, float]]:
        found = ((w, self._data.payee_words.get(w)) for w in set(words))
        return {w: dict(sorted(counts, key=lambda kv: str(kv[0]))) for w, counts in found if counts}

    async def learn_words(self, words: Sequence[str], category_id: UUID, weight: float) -> None:
        for word in set(words):  # values are replaced, never mutated: a snapshot stays intact
            counts = dict(self._data.payee_words.get(word, ()))
            counts[category_id] = counts.get(category_id, 0.0) + weight
            if counts[category_id] <= _FORGOTTEN:
                del counts[category_id]
            if counts:
                self._data.payee_words[word] = tuple(counts.items())
            else:
                self._data.payee_words.pop(word, None)

    async def put_many(self, entries: Collection[PayeeMemoryEntry]) -> None:
        for entry in entries:
            await self.put(entry)


class MemoryProcessedTasks(_Tenant):
    """Processed task ids of one tenant."""

    async def mark(self, task_id: UUID, name: str) -> bool:
        if task_id in self._data.processed:
            return False
        self._data.processed[task_id] = name
        return True


class MemoryIdentity(_Tenant):
    """The tenant, its users, memberships and tokens."""

    def __init__(self, data: TenantData, tenant_id: UUID, store: MemoryStore) -> None:
        super().__init__(data, tenant_id)
        self._store = store

    async def get_tenant(self) -> Tenant | None:
        return self._data.tenant

    async def add_tenant(self, tenant: Tenant) -> None:
        self._own(tenant.id)
        if self._data.tenant is not None or tenant.id in self._store.tenants:
            raise Conflict("the tenant exists")
        self._data.tenant = tenant

    async def add_user(self, user: User) -> None:
        if user.email in self._store.users_by_email() or any(u.email == user.email for u in self._data.users.values()):
            raise Conflict("that e-mail is already registered")
        self._data.users[user.id] = user

    async def get_user(self, user_id: UUID) -> User | None:
        if user_id not in self._data.memberships:
            return None
        return self._data.users.get(user_id)

    async def add_membership(self, membership: Membership) -> None:
        self._own(membership.tenant_id)
        if membership.user_id not in self._data.users:
            raise NotFound("user", membership.user_id)
        self._data.memberships[membership.user_id] = membership

    async def get_membership(self, user_id: UUID, *, for_share: bool = False) -> Membership | None:
        # Units of work of a tenant run one at a time here: holding is implicit.
        return self._data.memberships.get(user_id)

    async def home_user_by_email(self, email: str) -> User | None:
        wanted = email.strip().lower()
        return next((u for u in self._data.users.values() if u.email == wanted), None)

    async def list_members(self, *, for_update: bool = False) -> list[Member]:
        # Units of work of a tenant run one at a time here: holding is implicit.
        found = [Member(self._data.users[m.user_id], m.role) for m in self._data.memberships.values()]
        return sorted(found, key=lambda m: (m.user.email, m.user.id))

    async def remove_membership(self, user_id: UUID) -> None:
        if self._data.memberships.pop(user_id, None) is None:
            raise NotFound("member", user_id)

    async def add_token(self, token: ApiToken) -> None:
        self._own(token.tenant_id)
        if token.user_id not in self._data.memberships:
            raise NotFound("user", token.user_id)
        if token.token_hash in self._store.tokens_by_hash():
            raise Conflict("token exists")
        self._data.tokens[token.id] = token

    async def get_token(self, token_id: UUID) -> ApiToken | None:
        return self._data.tokens.get(token_id)

    async def list_tokens(self, user_id: UUID | None = None) -> list[ApiToken]:
        tokens = [t for t in self._data.tokens.values() if user_id is None or t.user_id == user_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    async def update_token(self, token: ApiToken) -> None:
        if token.id not in self._data.tokens:
            raise NotFound("token", token.id)
        self._data.tokens[token.id] = token


class MemoryRates:
    """The tenant's exchange rates, and the global defaults of the store (a shared rate written
    by a unit is staged in the tenant's data and becomes global when the unit commits)."""

    def __init__(self, data: TenantData, store: MemoryStore) -> None:
        self._data = data
        self._store = store

    async def put(self, rates: Sequence[Rate]) -> int:
        for rate in rates:
            target = self._data.shared_rates_staged if rate.shared else self._data.rates
            target[(*rate.pair, rate.on)] = rate
        return len(rates)

    async def between(self, start: date, end: date, currencies: Collection[str] | None = None) -> list[Rate]:
        wanted = None if currencies is None else set(currencies)
        shared = {**self._store.shared_rates, **self._data.shared_rates_staged}
        found = [
            rate
            for rate in (*shared.values(), *self._data.rates.values())
            if start <= rate.on <= end and (wanted is None or (rate.base.code in wanted and rate.quote.code in wanted))
        ]
        return sorted(found, key=lambda r: (r.on, r.pair, not r.shared))

    async def reporting_currency(self) -> Currency | None:
        code = self._data.reporting_currency
        return None if code is None else currency(code)

    async def set_reporting_currency(self, code: Currency | None) -> None:
        self._data.reporting_currency = None if code is None else code.code


class MemorySchedules(_Tenant):
    """Schedules of one tenant and their handled occurrences."""

    async def get(self, schedule_id: UUID, *, for_update: bool = False) -> Schedule | None:
        # Units of work of a tenant run one at a time here: holding is implicit.
        return self._data.schedules.get(schedule_id)

    async def due(self, day: date) -> list[Schedule]:
        found = [s for s in self._data.schedules.values() if s.active and s.next_due is not None and s.next_due <= day]
        return sorted(found, key=lambda s: s.id)

    def _check(self, schedule: Schedule) -> None:
        if schedule.account_id not in self._data.accounts:
            raise NotFound("account", schedule.account_id)

    async def add(self, schedule: Schedule) -> None:
        self._own(schedule.tenant_id)
        if schedule.id in self._data.schedules:
            raise Conflict(f"schedule {schedule.id} exists")
        self._check(schedule)
        self._data.schedules[schedule.id] = schedule

    async def update(self, schedule: Schedule) -> None:
        if schedule.id not in self._data.schedules:
            raise NotFound("schedule", schedule.id)
        self._check(schedule)
        self._data.schedules[schedule.id] = schedule

    async def remove(self, schedule_id: UUID) -> None:
        if self._data.schedules.pop(schedule_id, None) is None:
            raise NotFound("schedule", schedule_id)
        for key in [k for k in self._data.occurrences if k[0] == schedule_id]:
            del self._data.occurrences[key]  # as ON DELETE CASCADE
        for sub in [x for x in self._data.subscriptions.values() if x.schedule_id == schedule_id]:
            self._data.subscriptions[sub.id] = replace(sub, schedule_id=None)  # as ON DELETE SET NULL

    async def record(self, occurrence: ScheduleOccurrence) -> bool:
        if occurrence.schedule_id not in self._data.schedules:
            raise NotFound("schedule", occurrence.schedule_id)
        key = (occurrence.schedule_id, occurrence.due_on)
        if key in self._data.occurrences:
            return False
        self._data.occurrences[key] = occurrence
        return True

    async def occurrences(self, schedule_id: UUID) -> list[ScheduleOccurrence]:
        found = [o for (s, _), o in self._data.occurrences.items() if s == schedule_id]
        return sorted(found, key=lambda o: o.due_on)

    async def list(self) -> list[Schedule]:
        return sorted(self._data.schedules.values(), key=lambda s: (s.name.lower(), s.id))


class MemorySubscriptions(_Tenant):
    """Decided subscriptions of one tenant."""

    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> TrackedSubscription | None:
        return self._data.subscriptions.get(subscription_id)

    async def add(self, subscription: TrackedSubscription) -> None:
        self._own(subscription.tenant_id)
        if subscription.account_id not in self._data.accounts:
            raise NotFound("account", subscription.account_id)
        if subscription.id in self._data.subscriptions or any(
            x.account_id == subscription.account_id and x.payee_key == subscription.payee_key
            for x in self._data.subscriptions.values()
        ):
            raise Conflict("this subscription was decided before")
        self._data.subscriptions[subscription.id] = subscription

    async def update(self, subscription: TrackedSubscription) -> None:
        if subscription.id not in self._data.subscriptions:
            raise NotFound("subscription", subscription.id)
        self._data.subscriptions[subscription.id] = subscription

    async def list(self) -> list[TrackedSubscription]:
        return sorted(self._data.subscriptions.values(), key=lambda x: (x.payee_key, x.id))


class MemoryBalanceAlerts(_Tenant):
    """Low-balance alerts of one tenant."""

    async def put(self, alert: BalanceAlert) -> None:
        if alert.account_id not in self._data.accounts:
            raise NotFound("account", alert.account_id)
        self._data.balance_alerts[alert.account_id] = alert

    async def remove(self, account_id: UUID) -> None:
        if self._data.balance_alerts.pop(account_id, None) is None:
            raise NotFound("balance alert", account_id)

    async def announce(self, account_id: UUID, below_on: date, threshold_minor: int) -> bool:
        key = (account_id, below_on, threshold_minor)
        if key in self._data.balance_announced:
            return False
        self._data.balance_announced.add(key)
        return True

    async def list(self) -> list[BalanceAlert]:
        return sorted(self._data.balance_alerts.values(), key=lambda a: a.account_id)
