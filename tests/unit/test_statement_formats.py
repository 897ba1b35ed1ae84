"""QIF, CAMT.053 and MT940 behind the StatementParser port, on fixtures written from the
formats' specifications (tests/fixtures/statements/), and the files they refuse."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from valorize_adapters.statements import CamtStatementParser, Mt940StatementParser, QifStatementParser
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money, currency

FIXTURES = Path(__file__).parent.parent / "fixtures" / "statements"
EUR = currency("EUR")
BRL = currency("BRL")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_camt053_entries_signs_references_and_closing_balance() -> None:
    parsed = CamtStatementParser().parse(fixture("camt053_v02.xml"), EUR, {})
    assert parsed.errors == ()
    assert [(r.booked_on, r.amount.minor, r.payee, r.external_id, r.pending) for r in parsed.rows] == [
        (date(2026, 11, 3), -1230, "REWE Markt GmbH", "2026110300001234", False),
        (date(2026, 11, 4), 250000, "ACME GmbH", "2026110400005678", False),
        (date(2026, 11, 4), -7500, "", "2026110400009012", False),
        (date(2026, 11, 4), -1999, "", "2026110400009999", True),
    ]
    assert parsed.rows[0].description == "REWE Markt Berlin Kartenzahlung 03.11"
    assert parsed.rows[2].description == "Lastschrift Stadtwerke Berlin"
    assert parsed.closing_balance is not None
    assert (parsed.closing_balance.amount, parsed.closing_balance.as_of) == (Money(341270, EUR), date(2026, 11, 4))


def test_camt053_of_a_later_schema_version_reads_alike() -> None:
    later = fixture("camt053_v02.xml").replace(b"camt.053.001.02", b"camt.053.001.08")
    later = later.replace(b"<Sts>BOOK</Sts>", b"<Sts><Cd>BOOK</Cd></Sts>")
    later = later.replace(b"<Cdtr><Nm>REWE Markt GmbH</Nm></Cdtr>", b"<Cdtr><Pty><Nm>REWE Markt GmbH</Nm></Pty></Cdtr>")
    parsed = CamtStatementParser().parse(later, EUR, {})
    assert [r.amount.minor for r in parsed.rows] == [-1230, 250000, -7500, -1999]
    assert parsed.rows[0].payee == "REWE Markt GmbH"


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<Document><BkToCstmrStmt>&b;</BkToCstmrStmt></Document>",
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>',
        b"<Document><BkToCstmrStmt><Stmt><Ntry>",
        b"<Other/>",
        b"not xml at all",
    ],
)
def test_camt053_refuses_entities_external_references_and_non_statements(content: bytes) -> None:
    with pytest.raises(ValidationError):
        CamtStatementParser().parse(content, EUR, {})


def test_camt053_in_another_currency_is_refused() -> None:
    with pytest.raises(ValidationError, match="EUR"):
        CamtStatementParser().parse(fixture("camt053_v02.xml"), BRL, {})


def test_mt940_transactions_details_and_closing_balance() -> None:
    parsed = Mt940StatementParser().parse(fixture("statement.sta"), EUR, {})
    assert parsed.errors == ()
    assert [(r.booked_on, r.amount.minor, r.payee, r.external_id) for r in parsed.rows] == [
        (date(2026, 11, 3), -1230, "REWE MARKT GMBH", "2026110300001234"),
        (date(2026, 11, 4), 250000, "ACME GMBH", "2026110400005678"),
        (date(2026, 11, 4), -7500, "STADTWERKE BERLIN", "2026110400009012"),
    ]
    assert parsed.rows[1].description == "Gehalt November"
    assert parsed.closing_balance is not None
    assert (parsed.closing_balance.amount.minor, parsed.closing_balance.as_of) == (341270, date(2026, 11, 4))


def test_mt940_is_never_read_as_a_file_name(tmp_path: Path) -> None:
    """``mt940.parse`` reads a file when given bytes that name one; the parser hands it a stream."""
    secret = tmp_path / "secret.sta"
    secret.write_bytes(fixture("statement.sta"))
    with pytest.raises(ValidationError):
        Mt940StatementParser().parse(str(secret).encode(), EUR, {})


def test_mt940_refuses_oversized_lines_before_the_library_sees_them() -> None:
    hostile = b":20:X\n:25:1/2\n:28C:1\n:60F:C261031EUR1,00\n:61:" + b"9" * 200_000 + b"\n-\n"
    started = time.process_time()
    with pytest.raises(ValidationError, match="line"):
        Mt940StatementParser().parse(hostile, EUR, {})
    assert time.process_time() - started < 1


def test_qif_bank_list_with_month_first_dates() -> None:
    parsed = QifStatementParser().parse(fixture("statement.qif"), BRL, {})
    assert parsed.errors == ()
    assert [(r.booked_on, r.amount.minor, r.payee) for r in parsed.rows] == [
        (date(2026, 11, 3), -1250, "PADARIA REAL"),
        (date(2026, 11, 4), 123456, "ACME LTDA"),
        (date(2026, 11, 15), -20000, "CONDOMINIO"),
    ]
    assert parsed.rows[0].description == "PADARIA REAL COMPRA CARTAO"


def test_qif_day_first_is_detected_or_declared() -> None:
    day_first = b"!Type:Bank\nD03/11/2026\nT-1.00\nPA\n^\nD25/11/2026\nT-2.00\nPB\n^\n"
    assert [r.booked_on for r in QifStatementParser().parse(day_first, BRL, {}).rows] == [
        date(2026, 11, 3),
        date(2026, 11, 25),
    ]
    ambiguous = b"!Type:Bank\nD03/11/2026\nT-1.00\nPA\n^\n"
    declared = QifStatementParser().parse(ambiguous, BRL, {"mapping": {"day_first": True}})
    assert declared.rows[0].booked_on == date(2026, 11, 3)
    assert QifStatementParser().parse(ambiguous, BRL, {}).rows[0].booked_on == date(2026, 3, 11)
    with pytest.raises(ValidationError, match="day_first"):
        QifStatementParser().check_options({"mapping": {"day_first": "yes"}})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"!Type:Bank\nD11/03/2026\nT-12,50\nPX\n^\n", "decimal point"),
        (b"!Type:Invst\nD11/03/2026\nNBuy\nYACME\nI10.00\nQ1\nT10.00\n^\n", "QIF"),
        (b"D11/03/2026\nT-1.00\n^\n", "QIF"),
    ],
)
def test_qif_files_it_cannot_read_right_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        QifStatementParser().parse(content, BRL, {})
