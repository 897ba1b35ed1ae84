"""Import matching: bank id, fingerprint, fuzzy pass; pending rows that post; progress."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st
from world import World, make_world, run

from valorize_adapters.memory import InMemoryEventBus
from valorize_core import NewTransaction, Valorize
from valorize_core.model.events import ImportProgressed
from valorize_core.model.fingerprint import fingerprints_with_occurrence
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Money
from valorize_core.model.statements import ParsedStatement, StatementRow
from valorize_core.model.statements.matching import MatchScope, match_rows
from valorize_core.model.transactions import Split, Transaction, TransactionStatus
from valorize_core.use_cases.actions.import_statement import StatementUpload

DAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)


def row(n: int, amount: str, *, days: int = 0, bank_id: str | None = None, pending: bool = False,
        text: str = "PADARIA REAL") -> StatementRow:  # fmt: skip
    return StatementRow(n, DAY + timedelta(days=days), text, Money.parse(amount, "BRL"), external_id=bank_id,
                        pending=pending)  # fmt: skip


def imported(w: World, *rows: StatementRow, vz: Valorize | None = None) -> Any:
    upload = StatementUpload(w.tenant, w.checking, "x.ofx", ParsedStatement(tuple(rows), ()))
    return run((vz or w.vz).import_statement(upload))


def stored(w: World) -> list[Transaction]:
    async def go() -> list[Transaction]:
        async with w.vz.ports.uow(w.tenant) as uow:
            return await uow.transactions.all(TransactionFilter(account_ids=(w.checking,)))

    return sorted(run(go()), key=lambda t: (t.booked_on, t.id))


def balance(w: World) -> int:
    async def go() -> int:
        async with w.vz.ports.uow(w.tenant) as uow:
            account = await uow.accounts.get(w.checking)
            assert account is not None
            return account.balance.minor

    return run(go())


def test_a_pending_row_is_updated_when_it_posts_under_the_same_bank_id(world: World) -> None:
    before = balance(world)
    first = imported(world, row(1, "-50.00", bank_id="A1", pending=True))
    assert (first.imported, first.updated) == (1, 0)
    assert stored(world)[0].status is TransactionStatus.PENDING
    # The card authorization settles two days later for a different amount (a tip).
    posted = imported(world, row(1, "-55.00", days=2, bank_id="A1"))
    assert (posted.imported, posted.duplicates, posted.updated) == (0, 0, 1)
    (tx,) = stored(world)
    assert (tx.status, tx.booked_on, tx.amount.minor) == (TransactionStatus.POSTED, DAY + timedelta(days=2), -5500)
    assert sum(sp.amount.minor for sp in tx.splits) == -5500
    assert balance(world) == before - 5500
    again = imported(world, row(1, "-55.00", days=2, bank_id="A1"))
    assert (again.imported, again.duplicates, again.updated) == (0, 1, 0)


def test_the_fuzzy_pass_posts_a_pending_row_without_a_bank_id(world: World) -> None:
    imported(world, row(1, "-20.00", pending=True, text="PAG*PADARIA REAL"))
    posted = imported(world, row(1, "-20.00", days=1, bank_id="B7", text="PADARIA REAL LTDA"))
    assert (posted.imported, posted.updated) == (0, 1)
    (tx,) = stored(world)
    assert (tx.status, tx.external_id) == (TransactionStatus.POSTED, "B7")


def test_a_manual_entry_is_reconciled_not_doubled(world: World) -> None:
    run(world.vz.create_transaction(NewTransaction(world.tenant, world.checking, DAY, "padaria", "-12.50")))
    result = imported(world, row(1, "-12.50", days=1, bank_id="C3"))
    assert (result.imported, result.duplicates) == (0, 1)
    (tx,) = stored(world)
    assert tx.external_id == "C3"  # the next statement matches it by bank id
    assert imported(world, row(1, "-12.50", days=1, bank_id="C3")).duplicates == 1


def test_rows_with_different_bank_ids_are_never_merged(world: World) -> None:
    imported(world, row(1, "-5.00", bank_id="X1"))
    result = imported(world, row(1, "-5.00", bank_id="X2"), row(2, "-5.00", days=1, bank_id="X3"))
    assert (result.imported, result.duplicates) == (2, 0)


def test_two_equal_rows_of_one_file_are_two_transactions_and_outside_the_window_is_new(world: World) -> None:
    first = imported(world, row(1, "-4.00", text="CAFE"), row(2, "-4.00", text="CAFE"))
    assert first.imported == 2
    late = imported(world, row(1, "-4.00", days=4, text="CAFE DA ESQUINA"))
    assert late.imported == 1


def test_large_imports_report_progress(world: World) -> None:
    bus = InMemoryEventBus()
    from dataclasses import replace

    vz = Valorize(replace(world.vz.ports, publisher=bus))
    rows = [row(n, f"-{n}.00", days=n % 28, bank_id=f"P{n}") for n in range(1, 2501)]
    result = imported(world, *rows, vz=vz)
    assert result.imported == 2500
    progress = [(e.processed, e.total) for e in bus.published if isinstance(e, ImportProgressed)]
    assert progress == [(n, 2500) for n in range(250, 2501, 250)]
    assert {e.import_id for e in bus.published} == {str(result.id)}


bank_ids = st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D", "E", "F"]))
rows_strategy = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(["-1.00", "-2.00", "3.00"]), bank_ids, st.booleans()),
    min_size=1, max_size=8,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(first=rows_strategy, second=rows_strategy)
def test_matching_properties(first: list[Any], second: list[Any]) -> None:
    """Whatever two statements hold: re-importing either adds nothing; no transaction ever
    carries two bank ids' rows; every stored bank id is unique; the balance is the sum."""
    w = make_world()

    def rows(spec: list[Any]) -> list[StatementRow]:
        seen: set[str] = set()
        out = []
        for n, (days, amount, bank_id, pending) in enumerate(spec, start=1):
            if bank_id in seen:
                bank_id = None
            if bank_id:
                seen.add(bank_id)
            out.append(row(n, amount, days=days, bank_id=bank_id, pending=pending, text=f"LOJA {n}"))
        return out

    opening = balance(w)
    imported(w, *rows(first))
    imported(w, *rows(second))
    txs = stored(w)
    ids = [t.external_id for t in txs if t.external_id]
    assert len(ids) == len(set(ids))
    assert balance(w) - opening == sum(t.amount.minor for t in txs)
    for spec in (first, second):
        again = imported(w, *rows(spec))
        assert again.imported == 0, spec
    assert len(stored(w)) == len(txs)
    wanted = {r.external_id for r in rows(first) + rows(second) if r.external_id}
    assert wanted == set(ids)  # every bank id landed on exactly one transaction


stored_strategy = st.lists(
    st.tuples(st.integers(-12, 18), st.sampled_from(["-1.00", "-2.00", "3.00", "-4.00"]), bank_ids, st.booleans(),
              st.booleans()),
    max_size=12,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(spec=rows_strategy, held=stored_strategy)
def test_the_match_scope_holds_every_candidate_a_row_can_match(spec: list[Any], held: list[Any]) -> None:
    """The import reads only the stored transactions its rows' scope admits; the decisions are
    those it made reading every transaction of the account around the file's dates."""
    account = uuid4()
    rows = [row(n, amount, days=days, bank_id=bank_id, pending=pending, text=f"LOJA {n % 3}")
            for n, (days, amount, bank_id, pending) in enumerate(spec, start=1)]  # fmt: skip
    prints = fingerprints_with_occurrence(account, ((r.booked_on, r.amount, r.description) for r in rows))
    stored_ids: set[str] = set()
    stored_prints: set[str] = set()
    window: list[Transaction] = []
    for n, (days, amount, bank_id, pending, printed) in enumerate(held):
        if bank_id in stored_ids:
            bank_id = None
        stored_ids.add(bank_id or "")
        mark = prints[n % len(prints)] if printed and prints[n % len(prints)] not in stored_prints else f"other-{n}"
        stored_prints.add(mark)
        money = Money.parse(amount, "BRL")
        window.append(Transaction(
            id=uuid4(), tenant_id=account, account_id=account, booked_on=DAY + timedelta(days=days),
            description="LOJA", payee="Loja", amount=money, splits=(Split(None, money),), created_at=NOW,
            updated_at=NOW, external_id=bank_id, fingerprint=mark,
            status=TransactionStatus.PENDING if pending else TransactionStatus.POSTED,
        ))  # fmt: skip
    scope = MatchScope.of(rows, prints)
    assert scope is not None
    within = [tx for tx in window if scope.date_from <= tx.booked_on <= scope.date_to]
    known = {
        "known_ids": {tx.external_id for tx in window if tx.external_id},
        "known_prints": {tx.fingerprint for tx in window if tx.fingerprint},
    }
    admitted = [tx for tx in within if scope.admits(tx)]
    assert match_rows(rows, prints, candidates=admitted, **known) == match_rows(
        rows, prints, candidates=within, **known
    )
    assert MatchScope.of([], []) is None
