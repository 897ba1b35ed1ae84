"""A bank id as a statement spells it (inner runs of spaces, a tab, spaces around it) is stored
as the transaction cleans it ("FIT 9"); the import must look it up, match it and compare it the
same way, or the same file imported again is new rows that collide with the stored ids (the
whole import refused as a conflict) instead of duplicates. On PostgreSQL and memory."""

from __future__ import annotations

import time
from datetime import date

from valorize_core import NewAccount, SignupRequest, Valorize
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Money
from valorize_core.model.statements import CsvMapping, parse_csv
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.import_statement import StatementUpload

SPELLED = [" FIT  9 ", "AB\t12", "X 1  2", "  ", "plain-3"]


def _statement(day: date, amount: int) -> ParsedStatement:
    return ParsedStatement(
        tuple(
            StatementRow(i + 2, day, f"LOJA {i}", Money(amount - i, "BRL"), external_id=spelled)
            for i, spelled in enumerate(SPELLED)
        ),
        (),
    )


def test_the_same_file_again_is_duplicates_whatever_the_spacing_of_its_bank_ids(app: Valorize) -> None:
    async def scene() -> tuple[tuple[int, int], tuple[int, int], set[str | None]]:
        t = (await app.signup(SignupRequest("Ids", f"ids-{time.time_ns()}@example.com", "I"))).tenant.id
        account = (await app.create_account(NewAccount(t, "Main", "checking", "BRL", "0"))).id
        first = await app.import_statement(StatementUpload(t, account, "a.ofx", _statement(date(2026, 3, 2), -100)))
        # the same bank ids later, with other amounts and dates: only the ids can tell
        again = await app.import_statement(StatementUpload(t, account, "a.ofx", _statement(date(2026, 3, 4), -500)))
        async with app.ports.uow(t) as uow:
            stored = await uow.transactions.all(TransactionFilter(account_ids=(account,)))
        return (first.imported, first.duplicates), (again.imported, again.duplicates), {x.external_id for x in stored}

    first, again, ids = run(scene())
    assert first == (5, 0)
    assert ids == {"FIT 9", "AB 12", "X 1 2", None, "plain-3"}
    # the four rows with an id are duplicates by it; the blank id is no id: a new row
    assert again == (1, 4)


def test_a_csv_bank_id_with_inner_spaces_imported_twice_is_duplicates(app: Valorize) -> None:
    mapping = CsvMapping(date_column="data", description_column="desc", amount_column="valor", external_id_column="id",
                         date_format="%d/%m/%Y", decimal_style="comma", delimiter=";")  # fmt: skip
    text = "data;desc;valor;id\n03/11/2026;PADARIA;-12,50;AB  12\n"
    moved = "data;desc;valor;id\n05/11/2026;PADARIA REAL;-13,50;AB  12\n"  # the bank re-sent it, changed

    async def scene() -> tuple[int, int]:
        t = (await app.signup(SignupRequest("Csv", f"csv-{time.time_ns()}@example.com", "C"))).tenant.id
        account = (await app.create_account(NewAccount(t, "Main", "checking", "BRL", "0"))).id
        await app.import_statement(StatementUpload(t, account, "a.csv", parse_csv(text, mapping, "BRL")))
        again = await app.import_statement(StatementUpload(t, account, "a.csv", parse_csv(moved, mapping, "BRL")))
        return again.imported, again.duplicates

    assert run(scene()) == (0, 1)


def test_two_rows_of_one_file_whose_ids_differ_only_in_spacing_are_one_transaction(app: Valorize) -> None:
    rows = (
        StatementRow(2, date(2026, 3, 2), "LOJA", Money(-100, "BRL"), external_id="A 1"),
        StatementRow(3, date(2026, 3, 2), "LOJA", Money(-100, "BRL"), external_id="A \t 1"),
    )

    async def scene() -> tuple[int, int]:
        t = (await app.signup(SignupRequest("One", f"one-{time.time_ns()}@example.com", "O"))).tenant.id
        account = (await app.create_account(NewAccount(t, "Main", "checking", "BRL", "0"))).id
        done = await app.import_statement(StatementUpload(t, account, "a.ofx", ParsedStatement(rows, ())))
        return done.imported, done.duplicates

    assert run(scene()) == (1, 1)
