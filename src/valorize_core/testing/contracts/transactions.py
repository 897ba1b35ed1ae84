"""Contract of the transaction repository: round trips, constraints, filters, keyset pages."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valorize_core.model.accounts import Account
from valorize_core.model.categories import Category
from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.listing import Page, PageKey, TransactionFilter, sort_key
from valorize_core.model.money import Money
from valorize_core.model.statements.matching import MatchScope
from valorize_core.model.transaction_view import ViewPage, transaction_view
from valorize_core.model.transactions import Categorization, CategorizationSource, Split, Transaction
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["TransactionRepositoryContract"]


class _Books(NamedTuple):
    tenant: UUID
    account: Account
    other: Account
    food: Category
    home: Category


class TransactionRepositoryContract(PortsContract):
    def _setup(self, ports: Ports) -> _Books:
        t = self.new_tenant(ports)
        acc, other = self.account(t, "Checking"), self.account(t, "Card")
        food, home = self.category(t, "Food"), self.category(t, "Home")

        async def add(uow: UnitOfWork) -> None:
            for a in (acc, other):
                await uow.accounts.add(a)
            for c in (food, home):
                await uow.categories.add(c)

        self.write(ports, t, add)
        return _Books(t, acc, other, food, home)

    def test_transaction_round_trip_keeps_every_field(self, ports: Ports) -> None:
        t, acc, _, food, home = self._setup(ports)
        tx = self.transaction(
            t, acc, -12345, categories=(food.id, home.id, None), tags=("b", "a"), external_id="FIT-1",
            fingerprint="f" * 64, status="pending", source="import",
            categorization=Categorization(CategorizationSource.NEIGHBOURS, Decimal("0.731"), "similar to 'x' (0.91)"),
        )  # fmt: skip
        self.write(ports, t, lambda uow: uow.transactions.add(tx))
        assert self.read(ports, t, lambda uow: uow.transactions.get(tx.id)) == tx
        assert self.read(ports, t, lambda uow: uow.transactions.get(self.new_id())) is None

    def test_update_replaces_splits_and_fields(self, ports: Ports) -> None:
        t, acc, other, food, home = self._setup(ports)
        tx = self.transaction(t, acc, -1000, categories=(food.id, home.id))
        self.write(ports, t, lambda uow: uow.transactions.add(tx))
        changed = replace(
            tx, account_id=other.id, amount=Money(-700, "BRL"), splits=(Split(home.id, Money(-700, "BRL"), "all"),),
            description="NEW", tags=("x",), updated_at=tx.updated_at + timedelta(hours=1),
        )  # fmt: skip
        self.write(ports, t, lambda uow: uow.transactions.update(changed))
        assert self.read(ports, t, lambda uow: uow.transactions.get(tx.id)) == changed
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.transactions.update(replace(tx, id=self.new_id())))

    def test_many_are_read_and_updated_at_once(self, ports: Ports) -> None:
        t, acc, _, food, home = self._setup(ports)
        txs = [self.transaction(t, acc, -100 * n, categories=(food.id, home.id)) for n in range(1, 4)]
        self.write(ports, t, lambda uow: uow.transactions.add_many(txs))
        wanted = [txs[2].id, self.new_id(), txs[0].id]
        assert self.read(ports, t, lambda uow: uow.transactions.get_many(wanted)) == sorted(
            [txs[0], txs[2]], key=lambda tx: tx.id
        )
        assert self.read(ports, t, lambda uow: uow.transactions.get_many([])) == []
        changed = [replace(tx, splits=(Split(home.id, tx.amount, "one"),), description=f"N{i}")
                   for i, tx in enumerate(txs[:2])]  # fmt: skip
        self.write(ports, t, lambda uow: uow.transactions.update_many(changed))
        assert self.read(ports, t, lambda uow: uow.transactions.get_many([tx.id for tx in txs])) == sorted(
            [*changed, txs[2]], key=lambda tx: tx.id
        )
        self.write(ports, t, lambda uow: uow.transactions.update_many([]))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.transactions.update_many([txs[2], replace(txs[1], id=self.new_id())]))

    def test_many_added_at_once_keep_every_field_and_are_found_by_their_words(self, ports: Ports) -> None:
        """``add_many`` of many rows (an import's path: one statement per table on PostgreSQL)
        stores each field as ``add`` does, nulls, tags, several splits and their order included."""
        t, acc, _, food, home = self._setup(ports)
        rule = self.new_id()

        def row(n: int) -> Transaction:
            split = (food.id, home.id, None) if n % 3 == 0 else (home.id,) if n % 3 == 1 else (None,)
            why = (Categorization(CategorizationSource.MEMORY, Decimal("0.731"), f"seen {n}") if n % 2
                   else Categorization(CategorizationSource.RULE, Decimal(1), "rule", rule))  # fmt: skip
            return self.transaction(
                t, acc, -1000 - n, day=date(2026, 2, 1 + n % 20), categories=split, tags=("b", "a:1") if n % 2 else (),
                external_id=f"FIT-{n}" if n % 4 == 0 else None, fingerprint=None if n % 5 == 0 else f"{n:064x}",
                status="pending" if n % 2 else "posted", source="import", description=f"SÃO JOÃO Nº {n} 'x' \\",
                payee="" if n % 7 == 0 else f"Padaria {n}", categorization=why,
            )  # fmt: skip

        txs = [row(n) for n in range(12)]
        self.write(ports, t, lambda uow: uow.transactions.add_many(txs))
        stored = self.read(ports, t, lambda uow: uow.transactions.get_many([tx.id for tx in txs]))
        assert stored == sorted(txs, key=lambda tx: tx.id)
        for text, n in (("joao 7", 7), ("sao padaria 3", 3)):  # the description's words, and the payee's
            flt = TransactionFilter(text=text)
            found = self.read(ports, t, lambda uow, flt=flt: uow.transactions.all(flt))  # type: ignore[misc]
            assert [tx.id for tx in found] == [txs[n].id]

    def test_lock_returns_the_rows_as_stored_in_id_order(self, ports: Ports) -> None:
        t, acc, _, food, home = self._setup(ports)
        txs = [self.transaction(t, acc, -100 * n, categories=(food.id, home.id)) for n in range(1, 4)]
        self.write(ports, t, lambda uow: uow.transactions.add_many(txs))
        wanted = [txs[2].id, self.new_id(), txs[0].id, txs[2].id]  # unknown ids and repeats are fine
        locked = self.write(ports, t, lambda uow: uow.transactions.lock(wanted))
        assert locked == sorted([txs[0], txs[2]], key=lambda tx: tx.id)
        assert self.write(ports, t, lambda uow: uow.transactions.lock([])) == []
        other = self.new_tenant(ports)  # another tenant's ids do not exist
        assert self.write(ports, other, lambda uow: uow.transactions.lock([txs[0].id])) == []

    def test_a_locked_read_waits_for_the_holder_and_sees_its_commit(self, ports: Ports) -> None:
        """The guarantee every balance-moving write relies on: a unit that reads a row through
        ``lock`` while another unit holds it gets the row as that unit committed it (amount and
        splits together), never the version from before."""
        t, acc, _, food, home = self._setup(ports)
        tx = self.transaction(t, acc, -1000, categories=(food.id,))
        self.write(ports, t, lambda uow: uow.transactions.add(tx))
        changed = replace(tx, amount=Money(-2500, "BRL"), splits=(Split(home.id, Money(-2500, "BRL")),))
        holding = asyncio.Event()

        async def holder() -> None:
            async with ports.uow(t) as uow:
                assert await uow.transactions.lock([tx.id]) == [tx]
                holding.set()
                await asyncio.sleep(0.2)  # the other unit asks for the row meanwhile
                await uow.transactions.update(changed)
                await uow.commit()

        async def waiter() -> list[Transaction]:
            await holding.wait()
            async with ports.uow(t) as uow:
                return await uow.transactions.lock([tx.id])

        async def both() -> list[Transaction]:
            _, seen = await asyncio.gather(holder(), waiter())
            return seen

        assert self.run(both()) == [changed]

    def test_references_are_checked(self, ports: Ports) -> None:
        t, acc, _, _, _ = self._setup(ports)
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.transactions.add(self.transaction(t, self.account(t, "Ghost"))))
        with pytest.raises(NotFound):
            self.write(
                ports, t, lambda uow: uow.transactions.add(self.transaction(t, acc, categories=(self.new_id(),)))
            )
        usd = self.transaction(t, replace(acc, opening_balance=Money(0, "USD"), balance=Money(0, "USD")))
        with pytest.raises(NotFound):  # an account is only found in its own currency
            self.write(ports, t, lambda uow: uow.transactions.add(usd))

    def test_bank_ids_and_fingerprints_are_unique_per_account(self, ports: Ports) -> None:
        t, acc, other, _, _ = self._setup(ports)
        self.write(
            ports, t, lambda uow: uow.transactions.add(self.transaction(t, acc, external_id="A", fingerprint="1"))
        )
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.transactions.add(self.transaction(t, acc, external_id="A")))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.transactions.add(self.transaction(t, acc, fingerprint="1")))
        self.write(
            ports, t, lambda uow: uow.transactions.add(self.transaction(t, other, external_id="A", fingerprint="1"))
        )
        assert self.read(ports, t, lambda uow: uow.transactions.existing_external_ids(acc.id, ["A", "B"])) == {"A"}
        assert self.read(ports, t, lambda uow: uow.transactions.existing_fingerprints(acc.id, ["1", "2"])) == {"1"}
        assert self.read(ports, t, lambda uow: uow.transactions.existing_fingerprints(acc.id, [])) == set()

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(data=st.data())
    def test_match_candidates_are_the_accounts_transactions_the_scope_admits(
        self, ports: Ports, data: st.DataObject
    ) -> None:
        t, acc, other, _, _ = self._setup(ports)
        day = st.integers(0, 40).map(lambda d: date(2026, 1, 1) + timedelta(days=d))
        marks = st.sampled_from([None, "A", "B", "C"])
        amounts = st.sampled_from([-500, -1000, 250, 7])
        rows = data.draw(st.lists(st.tuples(st.sampled_from([acc, other]), amounts, day, marks, marks), max_size=20))
        txs = [
            self.transaction(t, a, m, d, external_id=f"{x}{i}" if x else None, fingerprint=f"{y}{i}" if y else None)
            for i, (a, m, d, x, y) in enumerate(rows)
        ]
        self.write(ports, t, lambda uow: uow.transactions.add_many(txs))
        known = sorted({x.external_id for x in txs if x.external_id} | {x.fingerprint for x in txs if x.fingerprint})
        low, high = sorted(data.draw(st.tuples(day, day)))
        scope = MatchScope(
            low, high,
            external_ids=frozenset(data.draw(st.lists(st.sampled_from(known))) if known else ()),
            fingerprints=frozenset(data.draw(st.lists(st.sampled_from(known))) if known else ()),
            amounts=frozenset(data.draw(st.lists(st.sampled_from([-500, 250, 3])))),
        )  # fmt: skip
        expected = sorted((x for x in txs if x.account_id == acc.id and scope.admits(x)), key=sort_key)
        assert self.read(ports, t, lambda uow: uow.transactions.match_candidates(acc.id, scope)) == expected

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(data=st.data())
    def test_sum_outside_balance_is_what_the_rows_after_and_the_pending_within_add_up_to(
        self, ports: Ports, data: st.DataObject
    ) -> None:
        t, acc, _, _, _ = self._setup(ports)
        yen = self.account(t, "Yen", "JPY")  # another account, another currency: never counted
        self.write(ports, t, lambda uow: uow.accounts.add(yen))
        day = st.integers(0, 40).map(lambda d: date(2026, 1, 1) + timedelta(days=d))
        status = st.sampled_from(["pending", "posted", "reconciled"])
        amounts = st.sampled_from([-500, -1000, 250, 7, -(2**40)])
        rows = data.draw(st.lists(st.tuples(st.sampled_from([acc, yen]), amounts, day, status), max_size=20))
        pending_from, as_of = sorted(data.draw(st.tuples(day, day)))
        # And one of each status on each edge of both bounds, amounts that tell them apart.
        edges = (pending_from - timedelta(days=1), pending_from, as_of, as_of + timedelta(days=1))
        rows += [(acc, 3**i, d, s) for i, (d, s) in enumerate(
            (d, s) for d in edges for s in ("pending", "posted", "reconciled"))]  # fmt: skip
        txs = [self.transaction(t, a, m, d, status=s) for a, m, d, s in rows]
        self.write(ports, t, lambda uow: uow.transactions.add_many(txs))
        # What the closing-balance check added up when it read the rows: every one after the
        # day, and the pending ones from the statement's first day through it.
        later = TransactionFilter(account_ids=(acc.id,), date_from=as_of + timedelta(days=1))
        window = TransactionFilter(account_ids=(acc.id,), date_from=pending_from, date_to=as_of)
        read_then_added = sum(x.amount.minor for x in self.read(ports, t, lambda uow: uow.transactions.all(later)))
        read_then_added += sum(
            x.amount.minor
            for x in self.read(ports, t, lambda uow: uow.transactions.all(window))
            if x.status.value == "pending"
        )
        summed = self.read(ports, t, lambda uow: uow.transactions.sum_outside_balance(acc.id, as_of, pending_from))
        assert summed == read_then_added
        assert type(summed) is int

    def test_add_many_is_all_or_nothing(self, ports: Ports) -> None:
        t, acc, _, _, _ = self._setup(ports)
        good = self.transaction(t, acc, external_id="ok")
        dup = self.transaction(t, acc, external_id="ok")
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.transactions.add_many([good, dup]))
        assert self.read(ports, t, lambda uow: uow.transactions.all(TransactionFilter())) == []

    def test_counts_clear_category_transfer_legs_and_remove(self, ports: Ports) -> None:
        t, acc, other, food, home = self._setup(ports)
        transfer = self.new_id()
        a = self.transaction(t, acc, -500, categories=(food.id, home.id))
        b = self.transaction(t, acc, -300, categories=(food.id,))
        out = self.transaction(t, acc, -200, transfer_id=transfer)
        into = self.transaction(t, other, 200, transfer_id=transfer)
        self.write(ports, t, lambda uow: uow.transactions.add_many([a, b, out, into]))
        assert self.read(ports, t, lambda uow: uow.transactions.count_for_account(acc.id)) == 3
        assert self.read(ports, t, lambda uow: uow.transactions.count_for_category(food.id)) == 2
        assert self.read(ports, t, lambda uow: uow.transactions.transfer_legs(transfer)) == sorted(
            [out, into], key=lambda x: x.id
        )
        touched = self.write(ports, t, lambda uow: uow.transactions.clear_category(food.id))
        assert touched == sorted([a.id, b.id])
        stored = self.read(ports, t, lambda uow: uow.transactions.get(a.id))
        assert stored is not None
        assert [s.category_id for s in stored.splits] == [None, home.id]
        self.write(ports, t, lambda uow: uow.transactions.remove(b.id))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.transactions.remove(b.id))

    # The suite is subclassed once per adapter, so the same method runs on several executors.
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(data=st.data())
    def test_pages_and_filters_match_the_reference_semantics(self, ports: Ports, data: st.DataObject) -> None:
        t, acc, other, food, home = self._setup(ports)
        day = st.integers(0, 60).map(lambda d: date(2026, 1, 1) + timedelta(days=d))
        descriptions = st.sampled_from(["PADARIA REAL", "Uber *Trip", "mercado São João", "50%_OFF store", "Netflix"])
        rows = data.draw(
            st.lists(
                st.tuples(st.sampled_from([acc, other]), st.integers(-50_000, 50_000), day,
                          st.sampled_from([(None,), (food.id,), (home.id,), (food.id, None)]), descriptions),
                min_size=0, max_size=25,
            )
        )  # fmt: skip
        txs = [self.transaction(t, a, m, d, c, description=text, payee=text.title()) for a, m, d, c, text in rows]
        self.write(ports, t, lambda uow: uow.transactions.add_many(txs))
        flt = data.draw(
            st.builds(
                TransactionFilter,
                account_ids=st.sampled_from([(), (acc.id,), (other.id,)]),
                category_ids=st.sampled_from([(), (food.id,), (home.id, food.id)]),
                date_from=st.none() | day,
                text=st.sampled_from([None, "uber", "SÃO", "50%", "_off", "zzz"]),
                amount_min=st.none() | st.sampled_from([Decimal("-100"), Decimal("0"), Decimal("12.34")]),
                uncategorized=st.booleans(),
            )
        )
        expected = sorted((x for x in txs if flt.matches(x)), key=sort_key, reverse=True)
        assert self.read(ports, t, lambda uow: uow.transactions.all(flt)) == sorted(expected, key=sort_key)
        limit = data.draw(st.integers(1, 7))
        seen: list[Transaction] = []
        after: PageKey | None = None
        while True:

            async def next_page(uow: UnitOfWork, after: PageKey | None = after) -> Page:
                return await uow.transactions.page(flt, after, limit)

            async def next_view(uow: UnitOfWork, after: PageKey | None = after) -> ViewPage:
                return await uow.transactions.page_view(flt, after, limit)

            page = self.read(ports, t, next_page)
            # The read model's page is the same page, each row the view of its transaction.
            view = self.read(ports, t, next_view)
            assert view == ViewPage([transaction_view(x) for x in page.items], page.next_key)
            seen.extend(page.items)
            assert len(page.items) <= limit
            if page.next_key is None:
                break
            after = page.next_key
        assert seen == expected
