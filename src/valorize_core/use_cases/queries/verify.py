"""Query: audit every invariant of a tenant's books (``valorize verify``).

What must always hold, whatever concurrent writes did (see ``docs/domain.md``):

- ``balance``: each account's stored balance is its opening balance plus the sum of its
  transactions (the ledger's derived balance);
- ``splits``: each transaction's splits sum exactly to its amount, in its currency;
- ``transfer``: each transfer has exactly two legs, in two accounts, with opposite amounts (between two
  currencies: one amount out, one in);
- ``ledger``: all postings of the tenant sum to zero per currency (double entry);
- ``outbox``: no committed event stays unpublished longer than a grace period (the relay
  sweeps anything the after-commit publish missed; a leftover means the relay is not running).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.events import DomainEvent
from valorize_core.model.ledger import Ledger
from valorize_core.model.money import Money
from valorize_core.model.transactions import Transaction
from valorize_core.ports.audit import AuditSource
from valorize_core.ports.clock import Clock

__all__ = ["OUTBOX_GRACE", "Audit", "Break", "VerifyTenant", "audit_books"]

#: How long a committed event may wait for the relay before it counts as a break.
OUTBOX_GRACE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Break:
    """One broken invariant: which, where (an account, transaction, transfer, currency or
    event), what it should be and what it is."""

    tenant_id: UUID
    invariant: str
    subject: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return (
            f"tenant {self.tenant_id}: {self.invariant} broken at {self.subject}:"
            f" expected {self.expected}, found {self.actual}"
        )


@dataclass(frozen=True, slots=True)
class Audit:
    """The outcome for one tenant: what was looked at and every break found."""

    tenant_id: UUID
    accounts: int
    transactions: int
    breaks: tuple[Break, ...]

    @property
    def clean(self) -> bool:
        """True when nothing is broken."""
        return not self.breaks


def audit_books(
    tenant_id: UUID,
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    unpublished: Iterable[DomainEvent] = (),
) -> list[Break]:
    """Every break in a tenant's books (a pure function: the same books, the same breaks)."""
    breaks: list[Break] = []

    def found(invariant: str, subject: str, expected: object, actual: object) -> None:
        breaks.append(Break(tenant_id, invariant, subject, str(expected), str(actual)))

    known = {a.id for a in accounts}
    ledger = Ledger(accounts, [tx for tx in transactions if tx.account_id in known])
    for account in accounts:
        derived = ledger.account_balance(account.id)
        if account.balance != derived:
            found("balance", f"account {account.id} ({account.name})", f"{derived} (opening + transactions)",
                  account.balance)  # fmt: skip
    legs: dict[UUID, list[Transaction]] = defaultdict(list)
    for tx in transactions:
        if tx.account_id not in known:
            found("account", f"transaction {tx.id}", "an account of the tenant", f"account {tx.account_id}")
        total = sum(s.amount.minor for s in tx.splits if s.amount.currency == tx.amount.currency)
        if not tx.splits or total != tx.amount.minor or any(s.amount.currency != tx.amount.currency for s in tx.splits):
            found("splits", f"transaction {tx.id}", f"splits summing to {tx.amount}",
                  f"{Money(total, tx.amount.currency)} over {len(tx.splits)} splits")  # fmt: skip
        if tx.transfer_id is not None:
            legs[tx.transfer_id].append(tx)
    for transfer_id, pair in legs.items():
        if len(pair) != 2:
            found("transfer", f"transfer {transfer_id}", "2 legs",
                  f"{len(pair)} leg(s): {', '.join(str(tx.id) for tx in pair)}")  # fmt: skip
            continue
        first, second = pair
        if first.account_id == second.account_id:
            found("transfer", f"transfer {transfer_id}", "legs in two accounts", f"both in account {first.account_id}")
        if first.amount.currency == second.amount.currency:
            if first.amount.minor != -second.amount.minor:
                found("transfer", f"transfer {transfer_id}", "opposite amounts", f"{first.amount} and {second.amount}")
        elif (first.amount.minor < 0) == (second.amount.minor < 0) or 0 in (first.amount.minor, second.amount.minor):
            found("transfer", f"transfer {transfer_id}", "an amount out and an amount in (an exchange)",
                  f"{first.amount} and {second.amount}")  # fmt: skip
    for currency, total in sorted(ledger.trial_balance().items()):
        if total:
            found("ledger", f"currency {currency}", "postings summing to 0", Money(total, currency))
    for event in unpublished:
        found("outbox", f"event {event.event_id} ({event.name})", "published",
              f"unpublished since {event.occurred_at.isoformat()}")  # fmt: skip
    return breaks


class VerifyTenant:
    """Audits one tenant's books, read in one snapshot; events unpublished after ``grace``
    count as breaks."""

    def __init__(self, source: AuditSource, clock: Clock, grace: timedelta = OUTBOX_GRACE) -> None:
        self._source = source
        self._clock = clock
        self._grace = grace

    async def tenant_ids(self) -> list[UUID]:
        """Every tenant there is to audit."""
        return await self._source.tenant_ids()

    async def __call__(self, tenant_id: UUID) -> Audit:
        """Audit the tenant."""
        books = await self._source.books(tenant_id)
        unpublished = await self._source.unpublished(tenant_id, self._clock.now() - self._grace)
        breaks = audit_books(tenant_id, books.accounts, books.transactions, unpublished)
        return Audit(tenant_id, len(books.accounts), len(books.transactions), tuple(breaks))
