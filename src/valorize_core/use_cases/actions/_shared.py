"""Steps several actions share: lookups that raise, balance moves, learning corrections."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.categories import CategoryTree
from valorize_core.model.errors import Contention, ValidationError
from valorize_core.model.events import (
    AccountBalanceChanged,
    JobCompleted,
    RuleSuggested,
    TransactionCategorized,
    TransactionCreated,
    TransactionUpdated,
)
from valorize_core.model.money import Currency, Money
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.payees import display_payee
from valorize_core.model.read_scopes import transaction_scopes
from valorize_core.model.rule_suggestions import SUGGEST_AFTER, RuleSuggestion, SuggestionStatus
from valorize_core.model.rules import apply_rules
from valorize_core.model.transactions import CategorizationSource, Transaction
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.categorization import CONFIRMATION_WEIGHT
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require, together

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

    An archived account's balance never moves: the account the update returns was read with
    its row held (the update waits for a unit archiving it, then sees the archive), so a write
    that checked ``archived`` on an earlier, unlocked read is refused here and its unit, with
    everything it wrote, rolls back.
    """
    if delta_minor == 0:
        return None
    account = await uow.accounts.apply_balance_delta(account_id, delta_minor)
    if account.archived:
        raise ValidationError.for_field("account_id", "the account is archived")
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


async def retire_transactions(uow: UnitOfWork, *versions: Transaction) -> None:
    """Declare the cached reads writing these transactions changes: every version written or
    replaced (an edit's before and after, a deletion's last), and their balances
    (:func:`valorize_core.model.read_scopes.transaction_scopes`). Call it before committing;
    the category tree is read only when a split has a category, held shared (``for_share``) so
    that a category moved meanwhile is either in the tree read or waits for this commit: a unit
    reads it that way first, before its row locks, and this read is then the unit's cache."""
    categorized = any(split.category_id is not None for tx in versions for split in tx.splits)
    tree = CategoryTree(await uow.categories.list(for_share=True)) if categorized else None
    uow.retires(*transaction_scopes(versions, tree))


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


async def learn(uow: UnitOfWork, ports: Ports, tx: Transaction, category_id: UUID, *, weight: float = 1.0) -> None:
    """Teach the payee memory and the word statistics that this payee belongs in ``category_id``
    (at once; ``weight`` below 1 for a confirmation of an automatic category), and propose a rule
    when a person's recent categories for the payee agree (a confirmation counts: it is theirs too)."""
    await _teach(uow, ports, [(tx, category_id, weight)])


def _lessons(old: Transaction, new: Transaction) -> list[tuple[Transaction, UUID, float]]:
    """What a person setting ``new``'s category teaches, in order: ``(transaction, category,
    weight)``, a negative weight taking an earlier label back (see :func:`learn_choice`)."""
    if new.category_id is None:
        return []
    previous = old.category_id
    automatic = old.categorization.source in (CategorizationSource.MEMORY, CategorizationSource.NEIGHBOURS)
    kept = automatic and previous is not None and previous == new.category_id
    lessons: list[tuple[Transaction, UUID, float]] = []
    if (
        old.categorization.source == CategorizationSource.MANUAL
        and previous is not None
        and previous != new.category_id
    ):
        lessons.append((old, previous, -1.0))  # moved: the old label no longer holds
    lessons.append((new, new.category_id, CONFIRMATION_WEIGHT if kept else 1.0))
    return lessons


async def learn_choice(uow: UnitOfWork, ports: Ports, old: Transaction, new: Transaction) -> None:
    """A person set ``new``'s category (a correction, or a confirmation of the automatic one):
    learn it at once — a confirmation of what memory or the neighbours chose weighs
    :data:`CONFIRMATION_WEIGHT`, a correction 1 — and, when the person moves a row away from a
    category they had given it, take that old label back."""
    await _teach(uow, ports, _lessons(old, new))


async def learn_choices(uow: UnitOfWork, ports: Ports, changed: Sequence[tuple[Transaction, Transaction]]) -> None:
    """:func:`learn_choice` of each ``(old, new)`` pair, in order, in a constant number of round
    trips whatever their number (:func:`_teach`)."""
    await _teach(uow, ports, [lesson for pair in changed for lesson in _lessons(*pair)])


async def _teach(uow: UnitOfWork, ports: Ports, lessons: Sequence[tuple[Transaction, UUID, float]]) -> None:
    """Learn (a positive weight) or take back (a negative one) each lesson, in order, with what
    they read asked at once: the word statistics the categorizer will use
    (:meth:`~valorize_core.use_cases.categorization.Categorizer.read_ahead_learning`), then the
    payee memory of the keys it will learn and those payees' rule suggestions, together (one round
    trip on PostgreSQL). Each lesson is then learned as alone, its writes waiting for the commit."""
    if not lessons:
        return
    if keys := sorted({key for key in await ports.categorizer.read_ahead_learning(uow, lessons) if key}):
        await together(uow.payees.get_many(keys), uow.rule_suggestions.find_many(keys))
    for tx, category_id, weight in lessons:
        if weight < 0:
            await ports.categorizer.unlearn(uow, tx, category_id)
            continue
        entry = await ports.categorizer.learn(uow, tx, category_id, ports.clock.now(), weight=weight)
        if entry is not None:
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


async def index_examples(uow: UnitOfWork, ports: Ports, labeled: Sequence[Transaction]) -> None:
    """:func:`index_example` of each categorized transaction, embedded and written at once."""
    if ports.embedder is None or not labeled:
        return
    texts = [ports.categorizer.label_text(tx) for tx in labeled]
    vectors = ports.embedder.embed(texts)
    examples = []
    for tx, vector, text in zip(labeled, vectors, texts, strict=True):
        if tx.category_id is None:
            raise ValueError("index_examples takes categorized transactions")
        examples.append((tx.id, vector, tx.category_id, text))
    await uow.examples.upsert_many(examples)


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
