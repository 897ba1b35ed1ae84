"""Action: record a transaction, categorized on the way in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.payees import display_payee
from valorize_core.model.transactions import (
    Categorization,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)
from valorize_core.use_cases.actions._shared import (
    check_date,
    index_example,
    learn,
    move_balance,
    parse_amount,
    record_created,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require_categories, together

__all__ = ["CreateTransaction", "NewTransaction", "SplitInput", "build_splits"]


@dataclass(frozen=True, slots=True)
class SplitInput:
    """A split as given by a person: decimal-string amount, category (or none), memo."""

    amount: str
    category_id: UUID | None = None
    memo: str = ""


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """A transaction to record.

    Give either ``splits`` (summing exactly to ``amount``) or at most a ``category_id``; with
    neither, the categorizer chooses. ``payee`` defaults to one derived from the description.
    """

    tenant_id: UUID
    account_id: UUID
    booked_on: date
    description: str
    amount: str
    splits: tuple[SplitInput, ...] = ()
    category_id: UUID | None = None
    payee: str | None = None
    tags: tuple[str, ...] = ()
    status: TransactionStatus | str = TransactionStatus.POSTED
    external_id: str | None = None


def build_splits(
    amount: Money, cur: Currency, splits: tuple[SplitInput, ...], category_id: UUID | None
) -> tuple[Split, ...]:
    """The splits of a transaction from a person's input (validated, exact)."""
    if splits and category_id is not None:
        raise ValidationError.for_field("category_id", "give splits or category_id, not both")
    if not splits:
        return (Split(category_id, amount),)
    out = []
    for i, s in enumerate(splits):
        if not isinstance(s, SplitInput):
            raise ValidationError.for_field(f"splits.{i}", "must be a split")
        out.append(Split(s.category_id, parse_amount(s.amount, cur, f"splits.{i}.amount"), s.memo))
    return tuple(out)


class CreateTransaction:
    """Records a transaction, updates the balance and outbox in one unit of work."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: NewTransaction) -> Transaction:
        """Create the transaction and return it as stored."""
        booked_on = check_date(command.booked_on, "booked_on")
        if not isinstance(command.account_id, UUID):
            raise ValidationError.for_field("account_id", "must be an id")
        payee = command.payee if command.payee is not None else display_payee(command.description)
        async with self._ports.uow(command.tenant_id) as uow:
            # What the unit may read, asked at once (one round trip on PostgreSQL, where the unit
            # keeps them: the checks and the categorizer below read them again for free). The
            # tree is held shared, before any row lock, for the scopes it declares at the end;
            # then the account's row is locked, so its archive is checked under the lock and its
            # balance moves with no read of its own (on PostgreSQL, with the commit).
            _, held, _, _ = await together(
                uow.categories.list(for_share=True),
                uow.accounts.lock([command.account_id]),
                uow.rules.list(),
                self._ports.categorizer.read_ahead(uow, command.description or payee),
            )
            if not held:
                raise NotFound("account", command.account_id)
            account: Account = held[0]
            if account.archived:
                raise ValidationError.for_field("account_id", "the account is archived")
            amount = parse_amount(command.amount, account.currency)
            splits = build_splits(amount, account.currency, command.splits, command.category_id)
            await require_categories(uow, (s.category_id for s in splits), "splits")
            manual = any(s.category_id is not None for s in splits)
            now = self._ports.clock.now()
            draft = Transaction(
                id=self._ports.ids.new_id(),
                tenant_id=command.tenant_id,
                account_id=account.id,
                booked_on=booked_on,
                description=command.description,
                payee=payee,
                amount=amount,
                splits=splits,
                created_at=now,
                updated_at=now,
                status=command.status,  # type: ignore[arg-type]
                source=TransactionSource.MANUAL,
                tags=command.tags,
                external_id=command.external_id,
                categorization=Categorization.manual() if manual else Categorization.none(),
            )
            categories = {c.id for c in await uow.categories.list()}
            outcome = await self._ports.categorizer.categorize(
                draft, await uow.rules.list(), uow, keep_categories=manual, known=categories
            )
            tx = outcome.transaction
            await uow.transactions.add(tx)
            await move_balance(uow, self._ports, account.id, tx.amount.minor)
            record_created(uow, self._ports, tx)
            if manual and tx.category_id is not None:  # a person's choice teaches like a correction
                await learn(uow, self._ports, tx, tx.category_id)
                await index_example(uow, self._ports, tx)
            await retire_transactions(uow, tx)
            await uow.commit()
        return tx
