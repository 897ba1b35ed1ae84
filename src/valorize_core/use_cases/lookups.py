"""Lookups that use cases share — the entity or a domain error, rows read locked, references
checked — one module for actions and queries alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.conversion import Converter, MissingRate
from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.money import Currency
from valorize_core.model.rates import MAX_RATE_AGE_DAYS, PIVOT, RateBook
from valorize_core.model.rules import MAX_TENANT_PATTERNS, Rule
from valorize_core.model.transactions import Transaction
from valorize_core.ports.unit_of_work import ReadOnlyUnit, UnitOfWork

__all__ = [
    "in_currency",
    "lock_account",
    "lock_transaction",
    "require",
    "require_categories",
    "require_pattern_budget",
    "require_rule_references",
    "together",
]

T = TypeVar("T")


async def require(getter: Callable[[UUID], Awaitable[T | None]], entity_id: UUID, kind: str) -> T:
    """The entity or :class:`NotFound`."""
    if not isinstance(entity_id, UUID):
        raise ValidationError.for_field(f"{kind}_id", "must be an id")
    found = await getter(entity_id)
    if found is None:
        raise NotFound(kind, entity_id)
    return found


async def together(*reads: Awaitable[Any]) -> list[Any]:
    """Every read's result, in order, the reads asked at once: a unit of work may send them in
    one round trip (the PostgreSQL session gathers the reads a unit opens with). Every read has
    finished when this returns or raises (the first failure, in order), so none outlives the
    unit."""
    results = await asyncio.gather(*reads, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)


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
    uow: ReadOnlyUnit, ids: Iterable[UUID | None], field: str = "category_id", *, hold: bool = False
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


async def require_rule_references(uow: ReadOnlyUnit, rule: Rule, *, hold: bool = False) -> None:
    """Raise unless every category the rule assigns and every account its conditions name are
    the tenant's: one check for creating, changing and previewing a rule. A rule about to be
    stored passes ``hold`` (see :func:`require_categories`)."""
    await require_categories(uow, rule.category_ids(), "actions", hold=hold)
    wanted = rule.account_ids()
    if wanted:
        missing = wanted - {a.id for a in await uow.accounts.list()}
        if missing:
            raise ValidationError.for_field("conditions", f"unknown account {sorted(map(str, missing))[0]}")


async def in_currency(
    uow: ReadOnlyUnit, transactions: list[Transaction], target: Currency
) -> tuple[list[Transaction], list[MissingRate]]:
    """``transactions`` in ``target``, each at the rate of its booked day (those in ``target``
    as they are; those without a rate left out and named), reading only the rates needed."""
    foreign = [t for t in transactions if t.amount.currency != target]
    if not foreign:
        return transactions, []
    days = [t.booked_on for t in foreign]
    codes = {t.amount.currency.code for t in foreign} | {target.code, PIVOT}
    rates = await uow.rates.between(min(days) - timedelta(days=MAX_RATE_AGE_DAYS), max(days), codes)
    converter = Converter(RateBook(rates), target)
    return converter.transactions(transactions), converter.missing
