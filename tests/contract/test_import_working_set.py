"""An import's working set is its file, not the account: it reads the stored transactions its
rows can match (:class:`~valorize_core.model.statements.matching.MatchScope`), where it read
every transaction of the months the file covers. A year's statement into an account holding a
year loaded that whole year, so a worker's memory per import grew with the account (the soak's
"worker not flat", perf/README.md)."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from valorize_adapters.postgres import PostgresBackend, rows
from valorize_core import NewAccount, SignupRequest, Valorize
from valorize_core.model.money import Money
from valorize_core.model.statements.rows import ParsedStatement, StatementBalance, StatementRow
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.import_statement import StatementUpload

YEAR = date(2026, 1, 1)


def statement(size: int, amounts: range, spread: int = 330) -> ParsedStatement:
    """``size`` rows over ``spread`` days of 2026, each a new description, amounts cycling through ``amounts``."""
    day = [YEAR + timedelta(days=i * spread // size) for i in range(size)]
    lines = tuple(
        StatementRow(i + 2, day[i], f"LOJA {i}", Money(-amounts[i % len(amounts)], "BRL")) for i in range(size)
    )
    return ParsedStatement(lines, ())


async def _checking_account(vz: Valorize, prefix: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A new tenant and its checking account (100.00 opening)."""
    t = (await vz.signup(SignupRequest("Casa", f"{prefix}-{time.time_ns()}@example.com", "Ana"))).tenant.id
    return t, (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100.00"))).id


def _count_decoded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """From now on, the id of every transaction PostgreSQL's rows are decoded into, in order."""
    decoded: list[Any] = []
    decode = rows.transaction

    def counted(r: Any) -> Any:
        decoded.append(r["id"])
        return decode(r)

    monkeypatch.setattr(rows, "transaction", counted)
    return decoded


def test_an_import_reads_what_its_rows_can_match_not_the_months_they_cover(
    pg_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    vz = pg_backend.app

    async def scene() -> tuple[int, Any]:
        t, account = await _checking_account(vz, "ws")
        # A year of the account: 1,500 transactions, amounts 10.00-24.99.
        year = await vz.import_statement(StatementUpload(t, account, "year.csv", statement(1500, range(1000, 2500))))
        assert year.imported == 1500
        # Another year's statement of 60 rows: 57 amounts the account never had, and three of its
        # stored rows again (fuzzy duplicates: same amount and day, the text as the bank sent it).
        again = statement(1500, range(1000, 2500)).rows
        known = (again[10], again[700], again[1400])
        new = statement(57, range(90_000, 90_057)).rows
        upload = ParsedStatement((*new, *(StatementRow(58 + i, r.booked_on, f"{r.description} *", r.amount)
                                          for i, r in enumerate(known))), ())  # fmt: skip
        decoded = _count_decoded(monkeypatch)
        outcome = await vz.import_statement(StatementUpload(t, account, "next.csv", upload))
        return len(decoded), outcome

    read, outcome = run(scene())
    assert (outcome.imported, outcome.duplicates) == (57, 3)
    # The three rows it matched, read and then locked (6), not the
    # 1,500 of the year: before, it decoded every one of them.
    assert read <= 10, read


def test_a_closing_balance_is_checked_without_reading_the_accounts_history(
    pg_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check subtracts what the bank's balance leaves out (rows booked after its day, pending
    ones within the statement): summed by the store, where it decoded every such transaction."""
    vz = pg_backend.app

    async def scene() -> tuple[int, Any]:
        t, account = await _checking_account(vz, "wsb")
        # 1,500 stored transactions, 1,000 of them booked after the statement's day and a
        # pending one within it: what the check leaves out of the account's balance.
        year = statement(1500, range(1000, 2500))
        pending = StatementRow(1, date(2026, 1, 3), "RESERVA HOTEL", Money(-7_00, "BRL"), pending=True)
        history = ParsedStatement((*year.rows, pending), ())
        assert (await vz.import_statement(StatementUpload(t, account, "year.csv", history))).imported == 1501
        after_day = sum(r.amount.minor for r in year.rows if r.booked_on > date(2026, 4, 30))
        new = statement(20, range(90_000, 90_020), spread=119).rows
        # The bank's balance at the end of 30 April: the opening, what was booked through it
        # (the pending reservation left out) and the file's own rows.
        through = 100_00 + sum(r.amount.minor for r in year.rows if r.booked_on <= date(2026, 4, 30))
        closing = StatementBalance(Money(through + sum(r.amount.minor for r in new), "BRL"), date(2026, 4, 30))
        decoded = _count_decoded(monkeypatch)
        outcome = await vz.import_statement(StatementUpload(t, account, "april.ofx", ParsedStatement(new, (), closing)))
        assert after_day < 0
        return len(decoded), outcome

    read, outcome = run(scene())
    assert outcome.imported == 20
    check = outcome.balance_check
    assert check is not None
    assert check.account_balance == check.statement_balance, check
    # None (no row of the file can match a stored one); before, it decoded every transaction
    # from 1 January on: the 1,500 and the pending one, and the 20 it had just added.
    assert read == 0, read
