"""The ISO 4217 table is held to the published list (the ``iso4217`` package), and Money handles
every exponent in it, four-decimal units of account included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso4217 import Currency as Iso

from valorize_core.model.errors import InvalidMoney
from valorize_core.model.money import (
    CURRENCY_EXPONENTS,
    MAX_MINOR,
    WITHDRAWN_CURRENCIES,
    Money,
    active_currency,
    currency,
)


def test_the_table_is_iso_4217_list_one_with_minor_units() -> None:
    published = {c.code: c.exponent for c in Iso if c.exponent is not None}
    assert published == CURRENCY_EXPONENTS


@pytest.mark.parametrize("code", ["XCG", "ZWG", "VED", "CLF", "UYW", "SVC"])
def test_the_codes_the_issue_names_are_there(code: str) -> None:
    assert currency(code).code == code
    assert active_currency(code).code == code


def test_withdrawn_codes_are_read_but_not_opened() -> None:
    assert not set(WITHDRAWN_CURRENCIES) & {c.code for c in Iso}
    assert not set(WITHDRAWN_CURRENCIES) & set(CURRENCY_EXPONENTS)
    assert Money.parse("1.25", "ANG").minor == 125  # a stored ANG account still loads
    with pytest.raises(InvalidMoney, match="use XCG"):
        active_currency("ANG")
    with pytest.raises(InvalidMoney, match="unknown"):
        currency("XAU")  # no minor unit: not money here


def test_four_decimal_units() -> None:
    assert currency("CLF").exponent == 4
    assert currency("UYW").exponent == 4
    amount = Money.parse("-39.1234", "CLF")
    assert amount.minor == -391234
    assert amount.to_decimal_string() == "-39.1234"
    assert Money.parse("0.0001", "UYW").minor == 1
    assert Money.parse_statement("1.234,5678", "CLF", "comma").minor == 12345678
    with pytest.raises(InvalidMoney, match="more than 4 decimal places"):
        Money.parse("1.23456", "CLF")
    parts = Money(10001, "CLF").allocate([1, 1, 1])
    assert sum(p.minor for p in parts) == 10001


@given(st.sampled_from(sorted(CURRENCY_EXPONENTS)), st.integers(-MAX_MINOR, MAX_MINOR))
def test_every_currency_round_trips(code: str, minor: int) -> None:
    amount = Money(minor, code)
    text = amount.to_decimal_string()
    if minor != 0 or not text.startswith("-"):
        assert Money.parse(text, code) == amount
    assert len(text.partition(".")[2]) == CURRENCY_EXPONENTS[code]
