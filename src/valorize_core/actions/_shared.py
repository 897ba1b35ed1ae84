"""Steps several actions share: lookups that raise, balance moves, learning corrections."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from valorize_core.accounts import Account
from valorize_core.context import Ports
from valorize_core.errors import Contention, NotFound, ValidationError
from valorize_core.events import (
    AccountBalanceChanged,
    JobCompleted,
    RuleSuggested,
    TransactionCategorized,
    TransactionCreated,
    TransactionUpdated,
)
from valorize_core.money import Currency, Money
from valorize_core.payee_memory import PayeeMemoryEntry
from valorize_core.payees import display_payee, payee_key
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.rule_suggestions import SUGGEST_AFTER, RuleSuggestion, SuggestionStatus
from valorize_core.rules import MAX_TENANT_PATTERNS, Rule, apply_rules
from valorize_core.transactions import Transaction

T = TypeVar("T")
S = TypeVar("S")
C = TypeVar("C")

#: How many times an action runs its unit of work when concurrent writes collide.
ATTEMPTS = 5


def retry_on_contention(method: Callable[[S, C], Awaitable[T]]) -> Callable[[S, C], Awaitable[T]]:
    """Run an action's ``__call__`` again (with a short random pause) when its unit of work was
    rolled back by :class:`Contention` — a deadlock or serialization failure the store detected.

    Safe because a rolled-back unit left nothing behind (rows, balances, events) and the
    action re-reads everything it uses; after :data:`ATTEMPTS` the error goes to the caller
    (HTTP 409).
    """

    @functools.wraps(method)
    async def run(self: S, command: C) -> T:
        for attempt in range(1, ATTEMPTS):
            try:
                return await method(self, command)
            except Contention:
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
        return await method(self, command)

    return run


async def require(getter: Callable[[UUID], Awaitable[T | None]], entity_id: UUID, kind: str) -> T:
    """The entity or :class:`NotFound`."""
    if not isinstance(entity_id, UUID):
        raise ValidationError.for_field(f"{kind}_id", "must be an id")
    found = await getter(entity_id)
    if found is None:
        raise NotFound(kind, entity_id)
    return found


async def lock_transaction(uow: UnitOfWork, transaction_id: UUID) -> Transaction:
    """The transaction as it stands, locked until the unit ends, or :class:`NotFound`."""
    if not isinstance(transaction_id, UUID):
        raise ValidationError.for_field("transaction_id", "must be an id")
    found = await uow.transactions.lock([transaction_id])
    if not found:
        raise NotFound("transaction", transaction_id)
    return found[0]


async def lock_account(uow: UnitOfWork, account_id: UUID) -> Account:
    """The account as it stands, locked until the unit ends, or :class:`NotFound`."""
    if not isinstance(account_id, UUID):
        raise ValidationError.for_field("account_id", "must be an id")
    found = await uow.accounts.lock([account_id])
    if not found:
        raise NotFound("account", account_id)
    return found[0]


async def require_categories(
    uow: UnitOfWork, ids: Iterable[UUID | None], field: str = "category_id", *, hold: bool = False
) -> None:
    """Raise unless every non-null id is one of the tenant's categories. ``hold`` keeps the
    categories from being deleted until the unit of work ends: for references stored without a
    foreign key (a rule's actions), so that a deletion that has not seen the reference waits
    and a reference that has not seen the deletion is refused."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return
    known = {c.id for c in await uow.categories.list(for_update=hold)}
    missing = wanted - known
    if missing:
        raise ValidationError.for_field(field, f"unknown category {sorted(map(str, missing))[0]}")


async def require_pattern_budget(uow: UnitOfWork, rule: Rule) -> None:
    """Raise unless the tenant's rules, ``rule`` (new or changed) among them, hold at most
    ``MAX_TENANT_PATTERNS`` regular expressions."""
    count = rule.pattern_count()
    if count:
        count += sum(r.pattern_count() for r in await uow.rules.list() if r.id != rule.id)
    if count > MAX_TENANT_PATTERNS:
        raise ValidationError.for_field(
            "conditions", f"a tenant's rules hold at most {MAX_TENANT_PATTERNS} regular expressions in all"
        )


async def require_rule_references(uow: UnitOfWork, rule: Rule, *, hold: bool = False) -> None:
    """Raise unless every category the rule assigns and every account its conditions name are
    the tenant's: one check for creating, changing and previewing a rule. A rule about to be
    stored passes ``hold`` (see :func:`require_categories`)."""
    await require_categories(uow, rule.category_ids(), "actions", hold=hold)
    wanted = rule.account_ids()
    if wanted:
        missing = wanted - {a.id for a in await uow.accounts.list()}
        if missing:
            raise ValidationError.for_field("conditions", f"unknown account {sorted(map(str, missing))[0]}")


def parse_amount(value: object, cur: Currency, field: str = "amount") -> Money:
    """Money from a decimal string (or an existing Money) in ``cur``."""
    if isinstance(value, Money):
        if value.currency != cur:
            raise ValidationError.for_field(field, f"must be in {cur.code}")
        return value
    try:
        return Money.parse(value, cur)
    except ValidationError as exc:
        raise ValidationError.for_field(field, exc.errors[0].message if exc.errors else exc.message) from None


def check_date(value: object, field: str) -> date:
    """A plain date within a sane range."""
    if not isinstance(value, date) or not date(1900, 1, 1) <= value <= date(2999, 12, 31):
        raise ValidationError.for_field(field, "must be a date between 1900 and 2999")
    return value


async def move_balances(uow: UnitOfWork, ports: Ports, deltas: Mapping[UUID, int]) -> dict[UUID, Account]:
    """Move several accounts' balances, in account-id order (the order every unit locks
    accounts in, so two units moving the same accounts cannot deadlock); returns the moved."""
    moved: dict[UUID, Account] = {}
    for account_id in sorted(deltas):
        account = await move_balance(uow, ports, account_id, deltas[account_id])
        if account is not None:
            moved[account_id] = account
    return moved


async def move_balance(uow: UnitOfWork, ports: Ports, account_id: UUID, delta_minor: int) -> Account | None:
    """Add ``delta_minor`` to an account's balance and record the change (no-op for zero).

    The delta must come from rows read in this unit through ``lock`` (or written by it):
    never from a read that a concurrent unit could have made stale. Two or more accounts in
    one unit move through :func:`move_balances`.
    """
    if delta_minor == 0:
        return None
    account = await uow.accounts.apply_balance_delta(account_id, delta_minor)
    uow.record(
        ports.event(
            AccountBalanceChanged,
            uow.tenant_id,
            account_id=str(account.id),
            balance_minor=account.balance.minor,
            currency=account.currency.code,
        )
    )
    return account


def record_created(uow: UnitOfWork, ports: Ports, tx: Transaction) -> None:
    """Record that ``tx`` was created (and how it was categorized, when automatically)."""
    uow.record(
        ports.event(
            TransactionCreated,
            uow.tenant_id,
            transaction_id=str(tx.id),
            account_id=str(tx.account_id),
            amount_minor=tx.amount.minor,
            currency=tx.amount.currency.code,
            booked_on=tx.booked_on.isoformat(),
            category_id=None if tx.category_id is None else str(tx.category_id),
            description=tx.description,
        )
    )
    if tx.categorization.source not in ("manual", "none"):
        record_categorized(uow, ports, tx)


def record_updated(uow: UnitOfWork, ports: Ports, tx: Transaction, changes: tuple[str, ...]) -> None:
    """Record which fields of ``tx`` changed."""
    uow.record(
        ports.event(
            TransactionUpdated,
            uow.tenant_id,
            transaction_id=str(tx.id),
            account_id=str(tx.account_id),
            changes=changes,
        )
    )


def record_categorized(uow: UnitOfWork, ports: Ports, tx: Transaction) -> None:
    """Record the transaction's categorization."""
    uow.record(
        ports.event(
            TransactionCategorized,
            uow.tenant_id,
            transaction_id=str(tx.id),
            category_id=None if tx.category_id is None else str(tx.category_id),
            source=tx.categorization.source.value,
            confidence=str(tx.categorization.confidence),
            explanation=tx.categorization.explanation,
        )
    )


async def learn(uow: UnitOfWork, ports: Ports, tx: Transaction, category_id: UUID) -> None:
    """Teach the payee memory that this payee belongs in ``category_id`` (at once), and propose a
    rule when the payee's recent categories agree."""
    key = payee_key(tx.description or tx.payee)
    if not key:
        return
    entry = await uow.payees.get(key) or PayeeMemoryEntry(key, (), ports.clock.now())
    entry = entry.learn(category_id, ports.clock.now())
    await uow.payees.put(entry)
    await _maybe_suggest_rule(uow, ports, entry, tx)


async def _maybe_suggest_rule(uow: UnitOfWork, ports: Ports, entry: PayeeMemoryEntry, tx: Transaction) -> None:
    picked = entry.suggestion()
    if picked is None or picked[1] < SUGGEST_AFTER:
        return
    category_id, agreeing, total = picked
    if await uow.rule_suggestions.find(entry.payee_key, category_id) is not None:
        return  # proposed before: pending, accepted or dismissed
    probe = replace(tx, payee=display_payee(entry.payee_key))
    if apply_rules(await uow.rules.list(), probe).category_rule is not None:
        return  # a rule already categorizes this payee
    suggestion = RuleSuggestion(ports.ids.new_id(), uow.tenant_id, entry.payee_key, category_id, agreeing, total,
                                SuggestionStatus.PENDING, ports.clock.now())  # fmt: skip
    await uow.rule_suggestions.add(suggestion)
    uow.record(ports.event(RuleSuggested, uow.tenant_id, suggestion_id=str(suggestion.id), payee=suggestion.payee,
                           category_id=str(category_id), reason=suggestion.reason))  # fmt: skip


async def index_example(uow: UnitOfWork, ports: Ports, tx: Transaction) -> None:
    """Make a person-labeled transaction an example for the neighbour stage (same unit)."""
    if ports.embedder is None:
        return
    category_id = tx.category_id
    if category_id is None:
        await uow.examples.remove(tx.id)
        return
    text = ports.categorizer.label_text(tx)
    vector = ports.embedder.embed([text])[0]
    await uow.examples.upsert(tx.id, vector, category_id, text)


async def finish_job(
    uow: UnitOfWork, ports: Ports, job_id: UUID, summary: str, result: dict[str, Any] | None = None, *,
    error: str = "",
) -> None:  # fmt: skip
    """Store a job's outcome (``error``: it failed) and record ``JobCompleted``, in ``uow``."""
    job = await require(uow.jobs.get, job_id, "job")
    now = ports.clock.now()
    done = job.failed(error, now) if error else job.completed(result or {}, now)
    await uow.jobs.update(done)
    uow.record(ports.event(JobCompleted, uow.tenant_id, job_id=str(job.id), kind=job.kind,
                           status=done.status.value, summary=summary))  # fmt: skip
