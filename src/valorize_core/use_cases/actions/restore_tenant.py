"""Action: restore a tenant's archive into an empty tenant (this installation or another).

Everything is checked before anything is written — the header's version (older archives are
upgraded record by record), every record as an entity, the ``end`` line's counts (a truncated
archive is refused), references (a transaction's account, a split's category, a budget's
category) and every account's balance against its opening balance and transactions — then the
whole archive is written in ONE unit of work: it is restored entirely or not at all. Ids are
kept; the tenant id is the target's. People and tokens are not in an archive (they belong to
the installation): the target keeps its own. Person-labeled transactions become neighbour
examples again, as they were.

The target must hold no data: a restore over existing rows would mix two ledgers. It is
checked before the restore writes and again just before it commits, when the tenant must hold
exactly the archive's accounts, categories, rules, budgets and endpoints (a statement sees
every commit before it): a write that committed meanwhile refuses the restore, and one that
commits later is a write after the restore, on top of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.categories import Category
from valorize_core.model.errors import Conflict, NotFound, ValidationError
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rule_suggestions import RuleSuggestion
from valorize_core.model.rules import Rule
from valorize_core.model.statements.imports import StatementImport
from valorize_core.model.transactions import CategorizationSource, Transaction
from valorize_core.model.webhooks import WebhookEndpoint
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.actions._shared import index_example
from valorize_core.use_cases.archive import decode, parse_header, upgrade_record
from valorize_core.use_cases.context import Ports

__all__ = ["MAX_ARCHIVE_BYTES", "RestoreTenant", "TenantRestore"]

MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TenantRestore:
    """An archive (JSON Lines, UTF-8) to restore into ``tenant_id``."""

    tenant_id: UUID
    archive: bytes


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    """What was restored: how many records of each type, and the archive's version."""

    version: int
    counts: dict[str, int]


def _lines(archive: bytes) -> list[Any]:
    if len(archive) > MAX_ARCHIVE_BYTES:
        raise ValidationError.for_field("archive", f"archives are at most {MAX_ARCHIVE_BYTES} bytes")
    try:
        text = archive.decode("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError.for_field("archive", f"not a JSON Lines archive: {exc}") from None


def _categories_parents_first(categories: list[Category]) -> list[Category]:
    by_id = {c.id: c for c in categories}
    done: dict[UUID, Category] = {}

    def visit(c: Category, depth: int) -> None:
        if c.id in done:
            return
        if depth > len(by_id):
            raise ValidationError.for_field("archive", "the categories' parents form a cycle")
        if c.parent_id is not None:
            parent = by_id.get(c.parent_id)
            if parent is None:
                raise ValidationError.for_field("archive", f"category {c.id} names an unknown parent")
            visit(parent, depth + 1)
        done[c.id] = c

    for category in categories:
        visit(category, 0)
    return list(done.values())


class RestoreTenant:
    """Restores an archive into an empty tenant, all or nothing."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: TenantRestore) -> RestoreSummary:
        """Restore; ``Conflict`` when the tenant holds data, ``ValidationError`` for a bad archive."""
        lines = _lines(command.archive)
        if not lines:
            raise ValidationError.for_field("archive", "the archive is empty")
        version = parse_header(lines[0])
        if not isinstance(lines[-1], dict) or lines[-1].get("type") != "end":
            raise ValidationError.for_field("archive", "the archive has no end line: it was cut short")
        expected = lines[-1].get("counts")
        entities: dict[type, list[Any]] = {}
        counts: dict[str, int] = {}
        for number, raw in enumerate(lines[1:-1], start=2):
            record = upgrade_record(raw, version) if isinstance(raw, dict) else raw
            entity = decode(record, command.tenant_id, self._ports.patterns, number)
            entities.setdefault(type(entity), []).append(entity)
            counts[record["type"]] = counts.get(record["type"], 0) + 1
        if version > 1 and expected != counts:
            raise ValidationError.for_field("archive", f"the end line counts {expected}, the archive holds {counts}")
        self._check(entities)
        async with self._ports.uow(command.tenant_id) as uow:
            if await uow.identity.get_tenant() is None:
                raise NotFound("tenant", command.tenant_id)
            await self._require_empty(uow)
            await self._write(uow, entities)
            await self._require_only(uow, entities)
            await uow.commit()
        return RestoreSummary(version, counts)

    @staticmethod
    def _check(entities: dict[type, list[Any]]) -> None:
        """References and balances, before anything is written."""
        categories = {c.id for c in entities.get(Category, [])}
        accounts: dict[UUID, Account] = {a.id: a for a in entities.get(Account, [])}
        sums = dict.fromkeys(accounts, 0)
        for tx in entities.get(Transaction, []):
            if tx.account_id not in accounts:
                raise ValidationError.for_field("archive", f"transaction {tx.id} names an unknown account")
            if any(sp.category_id is not None and sp.category_id not in categories for sp in tx.splits):
                raise ValidationError.for_field("archive", f"transaction {tx.id} names an unknown category")
            sums[tx.account_id] += tx.amount.minor
        for account in accounts.values():
            if account.balance.minor != account.opening_balance.minor + sums[account.id]:
                raise ValidationError.for_field(
                    "archive", f"account {account.id}: its balance is not its opening balance plus its transactions"
                )
        for budget in entities.get(Budget, []):
            if budget.category_id not in categories:
                raise ValidationError.for_field("archive", f"budget {budget.id} names an unknown category")

    @staticmethod
    async def _require_empty(uow: UnitOfWork) -> None:
        # The category tree first: every unit takes it before its row locks (a transaction
        # write holds it shared, then locks its account).
        categories = await uow.categories.list(for_update=True)
        accounts = await uow.accounts.list()
        await uow.accounts.lock(sorted(a.id for a in accounts))
        held = [accounts, categories, await uow.rules.list(),
                await uow.budgets.list(), await uow.webhooks.list_endpoints()]  # fmt: skip
        if any(held):
            raise Conflict("the tenant holds data: restore into an empty tenant")

    @staticmethod
    async def _require_only(uow: UnitOfWork, entities: dict[type, list[Any]]) -> None:
        """Nothing but the archive's rows: a write racing the restore committed first otherwise."""
        held = {
            Account: {a.id for a in await uow.accounts.list()},
            Category: {c.id for c in await uow.categories.list()},
            Rule: {r.id for r in await uow.rules.list()},
            Budget: {b.id for b in await uow.budgets.list()},
            WebhookEndpoint: {e.id for e in await uow.webhooks.list_endpoints()},
        }
        for kind, ids in held.items():
            if ids != {e.id for e in entities.get(kind, [])}:
                raise Conflict("the tenant was written to during the restore: restore into an empty tenant")

    async def _write(self, uow: UnitOfWork, entities: dict[type, list[Any]]) -> None:
        for category in _categories_parents_first(entities.get(Category, [])):
            await uow.categories.add(category)
        for account in entities.get(Account, []):
            await uow.accounts.add(account)
        for rule in entities.get(Rule, []):
            await uow.rules.add(rule)
        for budget in entities.get(Budget, []):
            await uow.budgets.add(budget)
        for record in entities.get(StatementImport, []):
            await uow.imports.add(record)
        transactions: list[Transaction] = entities.get(Transaction, [])
        await uow.transactions.add_many(transactions)
        for tx in transactions:
            if tx.categorization.source is CategorizationSource.MANUAL:
                await index_example(uow, self._ports, tx)
        for entry in entities.get(PayeeMemoryEntry, []):
            await uow.payees.put(entry)
        for suggestion in entities.get(RuleSuggestion, []):
            await uow.rule_suggestions.add(suggestion)
        for note in entities.get(Notification, []):
            await uow.notifications.add(note)
        for endpoint in entities.get(WebhookEndpoint, []):
            await uow.webhooks.add_endpoint(endpoint)
