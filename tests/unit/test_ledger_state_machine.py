"""Random sequences of writes through the use cases keep the books exact.

After every step: each account's denormalized balance equals its opening balance plus its
postings, every entry sums to zero, the whole ledger sums to zero per currency — transfers
between two currencies included, whose legs clear through the FX account in their own
currencies — ``audit_books`` finds nothing, and a step that fails leaves every row and event
exactly as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from valorize_adapters.memory import InMemoryBackend, ManualClock
from valorize_core.model.errors import DomainError
from valorize_core.model.ledger import Ledger
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Money, currency
from valorize_core.model.rates import convert_at
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.create_transaction import NewTransaction, SplitInput
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_core.use_cases.queries.verify import audit_books

days = st.integers(0, 400).map(lambda d: date(2025, 1, 1) + timedelta(days=d))


def _fmt(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


amounts = st.integers(-500_000, 500_000).map(_fmt)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class Books(RuleBasedStateMachine):
    accounts = Bundle("accounts")
    transactions = Bundle("transactions")

    @initialize()
    def setup(self) -> None:
        self.backend = InMemoryBackend(clock=ManualClock())
        self.vz = self.backend.app
        result = run(self.vz.signup(SignupRequest("Books", "books@example.com", "Owner")))
        self.tenant = result.tenant.id
        self.categories = [
            run(self.vz.create_category(NewCategory(self.tenant, name, "expense"))).id for name in ("Food", "Home")
        ]
        self.deleted: set[UUID] = set()
        self.names: set[str] = set()
        self.currency: dict[UUID, str] = {}

    def snapshot(self) -> tuple[Any, int]:
        return copy.deepcopy(self.backend.store.tenants), len(self.backend.store.outbox)

    def must_fail_cleanly(self, coro: Any) -> None:
        before = self.snapshot()
        try:
            run(coro)
        except DomainError:
            pass
        else:
            raise AssertionError("expected a domain error")
        assert self.snapshot() == before

    @rule(target=accounts, name=st.text("abcdefgh", min_size=1, max_size=8), opening=amounts, usd=st.booleans())
    def open_account(self, name: str, opening: str, usd: bool) -> Any:
        command = NewAccount(self.tenant, name, "checking", "USD" if usd else "BRL", opening)
        if name in self.names:  # a duplicate name is refused and changes nothing
            self.must_fail_cleanly(self.vz.create_account(command))
            return multiple()
        self.names.add(name)
        account = run(self.vz.create_account(command))
        self.currency[account.id] = account.currency.code
        return account.id

    @rule(target=transactions, account=accounts, amount=amounts, day=days, split=st.booleans(), data=st.data())
    def record(self, account: UUID, amount: str, day: date, split: bool, data: st.DataObject) -> Any:
        category = data.draw(st.sampled_from([*self.categories, None]))
        splits: tuple[SplitInput, ...] = ()
        if split:
            minor = int(amount.replace(".", ""))
            first = data.draw(st.integers(-abs(minor) - 1, abs(minor) + 1))
            splits = (SplitInput(_fmt(first), self.categories[0]), SplitInput(_fmt(minor - first), None, "rest"))
            category = None
        tx = run(
            self.vz.create_transaction(
                NewTransaction(self.tenant, account, day, "PADARIA REAL 03/11", amount, splits, category)
            )
        )
        return tx.id

    @rule(
        target=transactions,
        source=accounts,
        target_account=accounts,
        amount=st.integers(1, 100_000),
        day=days,
        arriving=st.none() | st.integers(1, 100_000) | st.sampled_from(["0.18", "5.4321", "1", "0.000001"]),
    )
    def transfer(self, source: UUID, target_account: UUID, amount: int, day: date, arriving: int | str | None) -> Any:
        """Within one currency the same amount arrives (``to_amount``, if given, must be it; a
        rate is refused); across two, ``arriving`` says what does: an amount (``to_amount``) or a
        rate (``rate``); without it the transfer is refused."""
        to_amount = _fmt(arriving) if isinstance(arriving, int) else None
        rate = arriving if isinstance(arriving, str) else None
        command = NewTransfer(self.tenant, source, target_account, _fmt(amount), day, "Transfer", to_amount, rate)
        exchange = self.currency[source] != self.currency[target_account]
        arrives = Money(amount, self.currency[source])
        if exchange and rate is not None:
            arrives = convert_at(arrives, currency(self.currency[target_account]), Decimal(rate))
        elif exchange and to_amount is not None:
            arrives = Money(arriving, self.currency[target_account])  # type: ignore[arg-type]
        # within one currency, what arrives may be left out or given as the same amount
        same = arriving is None or arriving == amount
        valid = source != target_account and (
            (not exchange and same) or (exchange and arriving is not None and arrives.minor > 0)
        )
        if not valid:
            self.must_fail_cleanly(self.vz.create_transfer(command))
            return multiple()
        transfer = run(self.vz.create_transfer(command))
        assert transfer.outflow.amount == Money(-amount, self.currency[source])
        assert transfer.inflow.amount == arrives
        return multiple(transfer.outflow.id, transfer.inflow.id)

    @rule(tx=transactions, amount=amounts, day=days)
    def edit(self, tx: UUID, amount: str, day: date) -> None:
        with contextlib.suppress(DomainError):  # deleted, a transfer leg, or a split transaction
            run(self.vz.update_transaction(TransactionChanges(self.tenant, tx, booked_on=day, amount=amount)))

    @rule(tx=transactions, account=accounts)
    def move(self, tx: UUID, account: UUID) -> None:
        with contextlib.suppress(DomainError):
            run(self.vz.update_transaction(TransactionChanges(self.tenant, tx, account_id=account)))

    @rule(tx=transactions)
    def delete(self, tx: UUID) -> None:
        try:
            for gone in run(self.vz.delete_transaction(TransactionDeletion(self.tenant, tx))):
                self.deleted.add(gone)
        except DomainError:
            pass

    @rule(account=accounts, amount=amounts)
    def unbalanced_splits_change_nothing(self, account: UUID, amount: str) -> None:
        bad = (SplitInput(amount, None), SplitInput("0.01", None))
        self.must_fail_cleanly(
            self.vz.create_transaction(NewTransaction(self.tenant, account, date(2025, 5, 1), "x", amount, bad))
        )

    @rule(account=accounts)
    def bad_amount_changes_nothing(self, account: UUID) -> None:
        self.must_fail_cleanly(
            self.vz.create_transaction(NewTransaction(self.tenant, account, date(2025, 5, 1), "x", "12.345"))
        )

    @invariant()
    def books_balance(self) -> None:
        if not hasattr(self, "tenant"):
            return

        async def read() -> tuple[Any, Any]:
            async with self.vz.ports.uow(self.tenant) as uow:
                return await uow.accounts.list(), await uow.transactions.all(TransactionFilter())

        accounts, txs = run(read())
        ledger = Ledger(accounts, txs)
        assert all(total == 0 for total in ledger.trial_balance().values())
        for entry in ledger.entries().values():
            assert sum(p.amount.minor for p in entry) == 0
        balances = ledger.balances()
        for account in accounts:
            assert account.balance == ledger.account_balance(account.id)
            assert account.balance == balances[(f"account:{account.id}", account.currency.code)]
        legs: dict[UUID, list[Money]] = {}
        for tx in txs:
            if tx.transfer_id:
                legs.setdefault(tx.transfer_id, []).append(tx.amount)
        exchanged: dict[str, int] = {}
        for pair in legs.values():
            assert len(pair) == 2
            out, into = sorted(pair, key=lambda m: m.minor)
            assert out.minor < 0 < into.minor
            if out.currency == into.currency:
                assert out.minor == -into.minor
            else:  # an exchange: each leg clears through the FX account in its own currency
                for leg in pair:
                    exchanged[leg.currency.code] = exchanged.get(leg.currency.code, 0) - leg.minor
        position = {code: money.minor for code, money in ledger.fx_position().items() if money.minor}
        assert position == {code: minor for code, minor in exchanged.items() if minor}
        assert audit_books(self.tenant, accounts, txs, []) == []


Books.TestCase.settings = settings(max_examples=200, stateful_step_count=25, deadline=None)
TestBooks = Books.TestCase
