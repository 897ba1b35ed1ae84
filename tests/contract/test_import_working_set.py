"""An import's working set is its file, not the account: it reads the stored transactions its
rows can match (:class:`~valorize_core.model.statements.matching.MatchScope`), where it read
every transaction of the months the file covers. A year's statement into an account holding a
year loaded that whole year, so a worker's memory per import grew with the account (the soak's
"worker not flat", perf/README.md)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest

from valorize_adapters.postgres import PostgresBackend, rows
from valorize_core import NewAccount, SignupRequest
from valorize_core.model.money import Money
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
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


def test_an_import_reads_what_its_rows_can_match_not_the_months_they_cover(
    pg_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    vz = pg_backend.app
    decoded: list[Any] = []
    decode = rows.transaction

    def counted(r: Any) -> Any:
        decoded.append(r["id"])
        return decode(r)

    async def scene() -> tuple[int, Any]:
        signup = await vz.signup(SignupRequest("Casa", f"ws-{time.time_ns()}@example.com", "Ana"))
        t = signup.tenant.id
        account = (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100.00"))).id
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
        monkeypatch.setattr(rows, "transaction", counted)
        outcome = await vz.import_statement(StatementUpload(t, account, "next.csv", upload))
        return len(decoded), outcome

    read, outcome = run(scene())
    assert (outcome.imported, outcome.duplicates) == (57, 3)
    # The three rows it matched, read and then locked (6), not the
    # 1,500 of the year: before, it decoded every one of them.
    assert read <= 10, read
