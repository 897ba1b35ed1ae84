"""Hypothesis strategies for Valorize's domain types.

Every value they draw is valid by construction, so a property test can focus on what it
checks: ``balanced_transactions()`` always has splits summing to its amount, ``money()``
never exceeds the representable range, ``rules()`` nest groups within the allowed depth.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from hypothesis import strategies as st

from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.money import CURRENCY_EXPONENTS, MAX_MINOR, Currency, Money, currency
from valorize_core.model.rules import (
    Action,
    AddTag,
    Condition,
    ConditionGroup,
    Field,
    Match,
    Operator,
    RenamePayee,
    Rule,
    SetCategory,
)
from valorize_core.model.transactions import Split, Transaction

__all__ = [
    "account_kinds",
    "accounts",
    "balanced_transactions",
    "condition_groups",
    "conditions",
    "currencies",
    "money",
    "money_strings",
    "rules",
    "split_amounts",
]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ids = st.uuids(version=4)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31))
_words = st.sampled_from(
    ["padaria", "uber", "netflix", "mercado", "farmacia", "posto", "aluguel", "salario", "pix", "cafe",
     "livraria", "restaurante", "cinema", "academia", "energia", "agua", "internet", "amazon"]
)  # fmt: skip
descriptions = st.lists(_words, min_size=1, max_size=4).map(" ".join)


def currencies(codes: list[str] | None = None) -> st.SearchStrategy[Currency]:
    """ISO 4217 currencies (all known ones, or ``codes``)."""
    return st.sampled_from(sorted(codes or CURRENCY_EXPONENTS)).map(currency)


def money(
    currency_code: str | Currency | None = None, min_minor: int = -MAX_MINOR, max_minor: int = MAX_MINOR
) -> st.SearchStrategy[Money]:
    """Exact amounts, in ``currency_code`` or any currency."""
    cur = st.just(currency(currency_code)) if currency_code else currencies()
    return st.builds(Money, st.integers(min_minor, max_minor), cur)


def money_strings(currency_code: str | Currency) -> st.SearchStrategy[str]:
    """Plain decimal strings that parse exactly in ``currency_code`` (``"-12.34"``, ``"7"``)."""
    return money(currency_code).map(lambda m: m.to_decimal_string())


def split_amounts(total: Money, max_parts: int = 5) -> st.SearchStrategy[list[Money]]:
    """Lists of amounts that sum exactly to ``total`` (parts may have either sign)."""

    @st.composite
    def _draw(draw: st.DrawFn) -> list[Money]:
        n = draw(st.integers(1, max_parts))
        bound = max(abs(total.minor), 1) * 2
        parts = [draw(st.integers(-bound, bound)) for _ in range(n - 1)]
        last = total.minor - sum(parts)
        if abs(last) > MAX_MINOR:
            return [total]
        return [Money(p, total.currency) for p in [*parts, last]]

    return _draw()


def account_kinds() -> st.SearchStrategy[AccountKind]:
    """Any kind of account."""
    return st.sampled_from(list(AccountKind))


def accounts(tenant_id: uuid.UUID | None = None, currency_code: str | None = None) -> st.SearchStrategy[Account]:
    """Accounts whose balance equals their opening balance."""

    @st.composite
    def _draw(draw: st.DrawFn) -> Account:
        opening = draw(money(currency_code, -(10**9), 10**9))
        return Account(
            id=draw(ids),
            tenant_id=tenant_id or draw(ids),
            name=draw(descriptions).title(),
            kind=draw(account_kinds()),
            opening_balance=opening,
            balance=opening,
            opened_on=draw(dates),
            created_at=_EPOCH,
        )

    return _draw()


def balanced_transactions(
    tenant_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    currency_code: str | None = None,
    category_ids: list[uuid.UUID | None] | None = None,
) -> st.SearchStrategy[Transaction]:
    """Transactions whose splits sum exactly to the amount."""

    @st.composite
    def _draw(draw: st.DrawFn) -> Transaction:
        amount = draw(money(currency_code, -(10**9), 10**9))
        parts = draw(split_amounts(amount))
        cats = st.sampled_from(category_ids) if category_ids else st.none()
        text = draw(descriptions)
        return Transaction(
            id=draw(ids),
            tenant_id=tenant_id or draw(ids),
            account_id=account_id or draw(ids),
            booked_on=draw(dates),
            description=text.upper(),
            payee=text.title(),
            amount=amount,
            splits=tuple(Split(draw(cats), p) for p in parts),
            created_at=_EPOCH,
            updated_at=_EPOCH,
        )

    return _draw()


def conditions(currency_code: str = "BRL") -> st.SearchStrategy[Condition]:
    """Single valid conditions over every field."""
    text_ops = [Operator.CONTAINS, Operator.EQUALS, Operator.STARTS_WITH, Operator.ENDS_WITH]
    text = st.builds(
        Condition,
        st.sampled_from([Field.DESCRIPTION, Field.PAYEE]),
        st.sampled_from(text_ops),
        _words,
        st.booleans(),
    )
    one_of = st.builds(
        Condition,
        st.sampled_from([Field.DESCRIPTION, Field.PAYEE]),
        st.just(Operator.ONE_OF),
        st.lists(descriptions, min_size=1, max_size=3).map(tuple),
        st.booleans(),
    )
    amounts = money(currency_code, -(10**7), 10**7)
    amount = st.builds(
        Condition, st.just(Field.AMOUNT), st.sampled_from([Operator.GREATER, Operator.LESS, Operator.EQUALS]),
        amounts, st.booleans(),
    )  # fmt: skip
    between = st.tuples(amounts, amounts).map(lambda p: tuple(sorted(p, key=lambda m: m.minor)))
    amount_between = st.builds(Condition, st.just(Field.AMOUNT), st.just(Operator.BETWEEN), between, st.booleans())
    on_date = st.builds(
        Condition, st.just(Field.DATE), st.sampled_from([Operator.GREATER, Operator.LESS, Operator.EQUALS]),
        dates, st.booleans(),
    )  # fmt: skip
    return st.one_of(text, one_of, amount, amount_between, on_date)


def condition_groups(currency_code: str = "BRL", max_depth: int = 3) -> st.SearchStrategy[ConditionGroup]:
    """Nested all/any groups, optionally negated, at most ``max_depth`` deep."""
    leaf = conditions(currency_code)

    def extend(children: st.SearchStrategy[Condition | ConditionGroup]) -> st.SearchStrategy[ConditionGroup]:
        return st.builds(
            ConditionGroup, st.sampled_from(list(Match)), st.lists(children, min_size=1, max_size=3).map(tuple),
            st.booleans(),
        )  # fmt: skip

    def groups(depth: int) -> st.SearchStrategy[ConditionGroup]:
        if depth <= 1:
            return extend(leaf)
        return extend(st.one_of(leaf, groups(depth - 1)))

    return groups(max_depth)


def rules(
    tenant_id: uuid.UUID | None = None, category_ids: list[uuid.UUID] | None = None, currency_code: str = "BRL"
) -> st.SearchStrategy[Rule]:
    """Valid rules setting one of ``category_ids`` (and maybe renaming or tagging)."""

    @st.composite
    def _draw(draw: st.DrawFn) -> Rule:
        cats = category_ids or [draw(ids)]
        actions: list[Action] = [SetCategory(draw(st.sampled_from(cats)))]
        if draw(st.booleans()):
            actions.append(RenamePayee(draw(descriptions).title()))
        if draw(st.booleans()):
            actions.append(AddTag(draw(_words)))
        return Rule(
            id=draw(ids),
            tenant_id=tenant_id or draw(ids),
            name=draw(descriptions),
            position=draw(st.integers(0, 1000)),
            conditions=draw(condition_groups(currency_code)),
            actions=tuple(actions),
            created_at=_EPOCH,
            stop_processing=draw(st.booleans()),
            enabled=draw(st.booleans()),
        )

    return _draw()
