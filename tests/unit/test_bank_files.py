"""Bank files as they come: encodings, amounts with currency symbols, presets, ``auto``
formats and a mapping suggested from a sample."""

from __future__ import annotations

from datetime import date

import pytest

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Currency, Money, currency
from valorize_core.model.statements.csv import CsvMapping, parse_csv
from valorize_core.model.statements.csv_parser import CsvStatementParser
from valorize_core.model.statements.presets import PRESETS, mapping_from_options
from valorize_core.model.statements.sniffing import decode_statement, detect_date_format, detect_decimal_style
from valorize_core.model.statements.suggestion import suggest_mapping

BRL: Currency = currency("BRL")
EUR: Currency = currency("EUR")

# Banco do Brasil's extrato.csv, as the bank writes it: Windows-1252, quoted, balance lines.
BANCO_DO_BRASIL = (
    '"Data","Lançamento","Detalhes","N° documento","Valor","Tipo Lançamento"\r\n'
    '"01/11/2026","Saldo Anterior","","","1.000,00",""\r\n'
    '"03/11/2026","Pix - Enviado","03/11 10:12 João Conceição","110301","-1.050,00","Saída"\r\n'
    '"04/11/2026","Pix - Recebido","04/11 11:40 Maria","110401","250,00","Entrada"\r\n'
    '"04/11/2026","Saldo do dia","","","200,00",""\r\n'
).encode("cp1252")
ITAU = "03/11/2026;PIX TRANSF JOÃO  03/11;-50,00\n03/11/2026;SALDO DO DIA;950,00\n05/11/2026;TED RECEBIDA;1.200,00\n"
NUBANK = (
    "Data,Valor,Identificador,Descrição\n"
    "03/11/2026,-50.00,6541a2b0-1,Transferência enviada pelo Pix - JOÃO\n"
    "04/11/2026,1200.00,6541a2b0-2,Transferência recebida pelo Pix - ACME\n"
)
EUROPEAN = "Buchungstag;Verwendungszweck;Betrag\n03.11.2026;REWE Markt Berlin;-12,30\n04.11.2026;Gehalt;2.500,00 €\n"


@pytest.mark.parametrize(
    ("text", "code", "style", "minor"),
    [
        ("R$ -1.050,00", "BRL", "comma", -105000),
        ("-R$ 1.050,00", "BRL", "comma", -105000),
        ("-€12,30", "EUR", "comma", -1230),
        ("€ -12,30", "EUR", "comma", -1230),
        ("12,30 EUR", "EUR", "comma", 1230),
        ("12,30\u00a0€", "EUR", "comma", 1230),
        ("(12.30)", "USD", "point", -1230),
        ("$(12.30)", "USD", "point", -1230),
        ("US$ 1,234.50", "USD", "point", 123450),
        ("BRL 10,00", "BRL", "comma", 1000),
    ],
)
def test_amounts_with_currency_symbols(text: str, code: str, style: str, minor: int) -> None:
    assert Money.parse_statement(text, code, style).minor == minor  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "code"), [("€12,30", "BRL"), ("R$ 1,00", "EUR"), ("12,30 USD", "EUR"), ("R$", "BRL")])
def test_a_symbol_of_another_currency_is_refused(text: str, code: str) -> None:
    with pytest.raises(ValidationError):
        Money.parse_statement(text, code, "comma")


def test_encodings_are_detected_or_declared() -> None:
    text = "Lançamento;São João"
    assert decode_statement(text.encode("cp1252")) == text
    assert decode_statement(text.encode("utf-8")) == text
    assert decode_statement(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_statement(text.encode("utf-16")) == text  # with its BOM
    assert decode_statement("Caf\u00e9 \u0081".encode("latin-1")) == "Caf\u00e9 \u0081"  # not cp1252 either
    assert decode_statement(text.encode("latin-1"), "latin-1") == text
    assert decode_statement(text.encode("cp1252"), "windows-1252") == text
    with pytest.raises(ValidationError, match="not utf-8 text"):
        decode_statement(text.encode("cp1252"), "utf-8")
    with pytest.raises(ValidationError):
        decode_statement(b"x", "ebcdic")


def test_dates_and_decimal_styles_are_detected() -> None:
    assert detect_date_format(["03/11/2026", "25/11/2026"]) == "%d/%m/%Y"
    assert detect_date_format(["11/25/2026"]) == "%m/%d/%Y"
    assert detect_date_format(["03.11.2026"]) == "%d.%m.%Y"
    assert detect_date_format(["2026-11-03"]) == "%Y-%m-%d"
    assert detect_date_format(["someday"]) is None
    assert detect_decimal_style(["-1.050,00", "1.234"]) == "comma"
    assert detect_decimal_style(["1,234.56", "12"]) == "point"
    assert detect_decimal_style(["1.234"]) == "point"  # says nothing: the default


def test_banco_do_brasil_preset_reads_windows_1252_and_skips_balance_lines() -> None:
    parsed = CsvStatementParser().parse(BANCO_DO_BRASIL, BRL, {"mapping": {"preset": "banco_do_brasil"}})
    assert parsed.errors == ()
    assert [(r.booked_on, r.description, r.payee, r.amount.minor) for r in parsed.rows] == [
        (date(2026, 11, 3), "Pix - Enviado", "03/11 10:12 João Conceição", -105000),
        (date(2026, 11, 4), "Pix - Recebido", "04/11 11:40 Maria", 25000),
    ]


def test_itau_nubank_and_european_presets() -> None:
    parser = CsvStatementParser()
    itau = parser.parse(ITAU.encode("cp1252"), BRL, {"mapping": {"preset": "itau"}})
    assert [(r.description, r.amount.minor) for r in itau.rows] == [
        ("PIX TRANSF JOÃO 03/11", -5000),
        ("TED RECEBIDA", 120000),
    ]
    nubank = parser.parse(NUBANK.encode(), BRL, {"mapping": {"preset": "nubank"}})
    assert [(r.external_id, r.amount.minor) for r in nubank.rows] == [("6541a2b0-1", -5000), ("6541a2b0-2", 120000)]
    european = parser.parse(EUROPEAN.encode("cp1252"), EUR, {"mapping": {"preset": "european"}})
    assert [(r.booked_on, r.amount.minor) for r in european.rows] == [
        (date(2026, 11, 3), -1230),
        (date(2026, 11, 4), 250000),
    ]


def test_a_preset_takes_overrides_and_unknown_presets_are_refused() -> None:
    mapping = mapping_from_options({"preset": "european", "delimiter": ","})
    assert (mapping.delimiter, mapping.decimal_style) == (",", "comma")
    with pytest.raises(ValidationError, match="preset"):
        mapping_from_options({"preset": "nope"})
    with pytest.raises(ValidationError, match="encoding"):
        mapping_from_options({"preset": "nubank", "encoding": "ebcdic"})
    assert all(mapping_from_options({"preset": name}) for name in PRESETS)


def test_auto_date_format_reads_the_whole_column_and_fails_cleanly() -> None:
    mapping = CsvMapping("d", "t", amount_column="a", date_format="auto", decimal_style="auto", delimiter=";")
    parsed = parse_csv("d;t;a\n01/02/2026;X;1.234,56\n13/02/2026;Y;-2,00\n", mapping, "BRL")
    assert [(r.booked_on, r.amount.minor) for r in parsed.rows] == [
        (date(2026, 2, 1), 123456),
        (date(2026, 2, 13), -200),
    ]
    with pytest.raises(ValidationError, match="date_format"):
        parse_csv("d;t;a\nyesterday;X;1\n", mapping, "BRL")


@pytest.mark.parametrize(
    ("content", "preset", "expected"),
    [
        (BANCO_DO_BRASIL, "banco_do_brasil",
         {"encoding": "windows-1252", "delimiter": ",", "date_column": "Data", "date_format": "%d/%m/%Y",
          "amount_column": "Valor", "decimal_style": "comma", "description_column": "Lançamento"}),
        (NUBANK.encode(), "nubank",
         {"encoding": "utf-8", "amount_column": "Valor", "decimal_style": "point", "description_column": "Descrição",
          "external_id_column": "Identificador"}),
        (EUROPEAN.encode("cp1252"), None,
         {"encoding": "windows-1252", "delimiter": ";", "date_format": "%d.%m.%Y", "amount_column": "Betrag",
          "decimal_style": "comma", "description_column": "Verwendungszweck"}),
        (ITAU.encode("cp1252"), None,
         {"has_header": False, "delimiter": ";", "date_column": "0", "description_column": "1",
          "amount_column": "2", "decimal_style": "comma"}),
        (b"Date,Description,Debit,Credit\n11/25/2026,Coffee,4.50,\n11/26/2026,Refund,,10.00\n", None,
         {"date_format": "%m/%d/%Y", "debit_column": "Debit", "credit_column": "Credit", "decimal_style": "point"}),
    ],
)  # fmt: skip
def test_a_mapping_is_suggested_from_a_sample(content: bytes, preset: str | None, expected: dict[str, object]) -> None:
    suggestion = suggest_mapping(content)
    assert suggestion.preset == preset
    assert {k: suggestion.mapping.get(k) for k in expected} == expected
    # the suggestion, sent back as the mapping, imports the file
    parsed = CsvStatementParser().parse(content, currency("EUR" if b"Betrag" in content else "BRL"),
                                        {"mapping": suggestion.mapping})  # fmt: skip
    assert parsed.rows
    assert parsed.errors == ()


def test_a_sample_without_dates_or_columns_is_refused() -> None:
    with pytest.raises(ValidationError, match="dates"):
        suggest_mapping(b"a;b\n1;2\n")
    with pytest.raises(ValidationError, match="delimiter"):
        suggest_mapping(b"just text\n")


def test_a_long_file_is_sampled_and_its_encoding_kept_across_the_cut() -> None:
    line = "03/11/2026;Padaria São João;-12,50\n"
    content = ("data;descrição;valor\n" + line * 5000).encode("utf-8")
    suggestion = suggest_mapping(content)
    assert (suggestion.mapping["encoding"], suggestion.mapping["description_column"]) == ("utf-8", "descrição")
