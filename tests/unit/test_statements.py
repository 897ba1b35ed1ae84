from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from world import World, run

from valorize_core import TransactionQuery
from valorize_core.model.errors import ValidationError
from valorize_core.model.fingerprint import fingerprint, fingerprints_with_occurrence
from valorize_core.model.money import Money
from valorize_core.model.statements import CsvMapping, parse_csv
from valorize_core.testing import money
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.queries.list_accounts import AccountsQuery

ITAU = CsvMapping(
    "data", "lançamento", amount_column="valor", date_format="%d/%m/%Y", decimal_style="comma", delimiter=";"
)
STATEMENT = """\ufeffdata;lançamento;valor
03/11/2026;COMPRA CARTAO 1234 PADARIA REAL SAO PAULO BR 03/11;-12,50
03/11/2026;COMPRA CARTAO 1234 PADARIA REAL SAO PAULO BR 03/11;-12,50
04/11/2026;SALARIO ACME LTDA;1.234,56
"""


def test_parse_comma_decimals_and_dates() -> None:
    parsed = parse_csv(STATEMENT, ITAU, "BRL")
    assert parsed.errors == ()
    assert [(r.line, r.booked_on, r.amount.minor) for r in parsed.rows] == [
        (2, date(2026, 11, 3), -1250),
        (3, date(2026, 11, 3), -1250),
        (4, date(2026, 11, 4), 123456),
    ]


def test_debit_credit_columns() -> None:
    mapping = CsvMapping("Date", "Description", debit_column="Debit", credit_column="Credit", date_format="%m/%d/%Y")
    text = (
        'Date,Description,Debit,Credit\n11/03/2026,COFFEE,"1,234.50",\n'
        "11/04/2026,REFUND,,3.00\n11/05/2026,BOTH,1.00,1.00\n"
    )
    parsed = parse_csv(text, mapping, "USD")
    assert [r.amount.minor for r in parsed.rows] == [-123450, 300]
    assert [(e.line, "both" in e.message) for e in parsed.errors] == [(4, True)]


def test_row_errors_carry_line_numbers() -> None:
    text = "data;lançamento;valor\n31/02/2026;X;-1,00\n01/03/2026;;-1,00\n01/03/2026;Y;-1,001\n01/03/2026;Z;-1,00\n"
    parsed = parse_csv(text, ITAU, "BRL")
    assert [e.line for e in parsed.errors] == [2, 3, 4]
    assert [r.description for r in parsed.rows] == ["Z"]


@pytest.mark.parametrize(
    ("text", "mapping"),
    [
        ("a;b;c\n1;2;3\n", ITAU),
        ("", ITAU),
        ('data;lançamento;valor\n"01/01/2026;X;-1,00\n', ITAU),
    ],
)
def test_file_level_errors_raise(text: str, mapping: CsvMapping) -> None:
    with pytest.raises(ValidationError):
        parse_csv(text, mapping, "BRL")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"date_column": "d", "description_column": "x"},
        {"date_column": "d", "description_column": "x", "amount_column": "a", "debit_column": "b"},
        {"date_column": "d", "description_column": "x", "amount_column": "a", "date_format": "yyyy"},
        {"date_column": "d", "description_column": "x", "amount_column": "a", "decimal_style": "space"},
        {"date_column": "d", "description_column": "x", "amount_column": "a", "has_header": False},
    ],
)
def test_bad_mappings_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CsvMapping(**kwargs)  # type: ignore[arg-type]


@given(
    st.lists(st.tuples(st.dates(), money("BRL", -(10**8), 10**8), st.sampled_from(["A", "B", "PADARIA"])), max_size=30)
)
def test_fingerprints_are_unique_within_a_file_and_stable(rows: list[tuple[date, Money, str]]) -> None:
    import uuid

    account = uuid.UUID(int=1)
    prints = fingerprints_with_occurrence(account, rows)
    assert len(set(prints)) == len(prints)
    assert prints == fingerprints_with_occurrence(account, rows)


def test_fingerprints_never_change() -> None:
    """Stored rows are deduplicated against these values: a faster computation must give the
    same digests (values computed by the code of 15c23c2)."""
    import uuid

    rows = [
        (date(2026, 3, 1), Money(-1250, "BRL"), "COMPRA CARTAO 1234 PADARIA REAL SAO PAULO"),
        (date(2026, 3, 1), Money(-1250, "BRL"), "PADARIA REAL"),
        (date(2026, 3, 2), Money(99, "BRL"), "PIX RECEBIDO João"),
    ]
    last = "ebdd871a8351cfb14f22e06507e6d650d4305a57df9f9f9b598f85ee7fce4c7b"
    assert fingerprints_with_occurrence(uuid.UUID(int=1), rows) == [
        "ca52796cc39f1c8b239061410aadcefba5d8e861f1faacadbf063b440ce5159f",
        "d303e24d2160c88e01b178a26b142d9f5aabdca95ec184a4b346b666d190016c",
        last,
    ]
    assert fingerprint(uuid.UUID(int=1), *rows[2], 0) == last


def upload(w: World, text: str = STATEMENT, **kw: object) -> StatementUpload:
    return StatementUpload(w.tenant, w.checking, "itau.csv", parse_csv(text, ITAU, "BRL"), **kw)  # type: ignore[arg-type]


def test_importing_the_same_file_twice_adds_nothing(world: World) -> None:
    first = run(world.vz.import_statement(upload(world)))
    assert (first.status, first.imported, first.duplicates) == ("completed", 3, 0)
    second = run(world.vz.import_statement(upload(world)))
    assert (second.status, second.imported, second.duplicates) == ("completed", 0, 3)
    assert len(run(world.vz.list_transactions(TransactionQuery(world.tenant))).items) == 3


def test_an_overlapping_statement_adds_only_new_rows(world: World) -> None:
    run(world.vz.import_statement(upload(world)))
    more = STATEMENT + "05/11/2026;UBER TRIP;-20,00\n"
    result = run(world.vz.import_statement(upload(world, more)))
    assert (result.imported, result.duplicates) == (1, 3)


def test_row_errors_reject_the_whole_import_by_default(world: World) -> None:
    bad = STATEMENT + "99/99/2026;BROKEN;-1,00\n"
    before = run(world.vz.list_transactions(TransactionQuery(world.tenant))).items
    result = run(world.vz.import_statement(upload(world, bad)))
    assert result.status == "failed"
    assert result.imported == 0
    assert [e.line for e in result.errors] == [5]
    assert run(world.vz.list_transactions(TransactionQuery(world.tenant))).items == before
    partial = run(world.vz.import_statement(upload(world, bad, skip_invalid_rows=True)))
    assert (partial.status, partial.imported, len(partial.errors)) == ("completed", 3, 1)


def test_imported_rows_are_categorized_and_counted_in_the_balance(world: World) -> None:
    from valorize_core.use_cases.actions.correct_category import CategoryCorrection

    seed = run(world.vz.import_statement(upload(world, "data;lançamento;valor\n01/11/2026;PADARIA REAL;-5,00\n")))
    tx = run(world.vz.list_transactions(TransactionQuery(world.tenant, import_id=seed.id))).items[0]
    run(world.vz.correct_category(CategoryCorrection(world.tenant, tx.id, world.food)))
    result = run(world.vz.import_statement(upload(world)))
    rows = run(world.vz.list_transactions(TransactionQuery(world.tenant, import_id=result.id))).items
    assert sorted((r.category_id == world.food) for r in rows) == [False, True, True]
    accounts = {a.id: a for a in run(world.vz.list_accounts(AccountsQuery(world.tenant)))}
    assert accounts[world.checking].balance.minor == 100000 - 500 - 1250 - 1250 + 123456


def test_statement_in_another_currency_is_refused(world: World) -> None:
    world.fails_cleanly(
        world.vz.import_statement(
            StatementUpload(world.tenant, world.card_usd, "x.csv", parse_csv(STATEMENT, ITAU, "BRL"))
        ),
        ValidationError,
    )
