from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valorize_core.model.errors import CurrencyMismatch, InvalidMoney
from valorize_core.model.money import MAX_MINOR, DecimalStyle, Money, currency
from valorize_core.testing import currencies, money


@pytest.mark.parametrize(("code", "exponent"), [("BRL", 2), ("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0), ("KWD", 3)])
def test_currency_exponents(code: str, exponent: int) -> None:
    assert currency(code).exponent == exponent
    assert currency(code.lower()).code == code


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("-12.34", "BRL", -1234),
        ("12.3", "BRL", 1230),
        ("0", "BRL", 0),
        ("1234", "JPY", 1234),
        ("1.234", "KWD", 1234),
        ("+7.10", "EUR", 710),
        ("+0", "EUR", 0),
        ("-0.01", "EUR", -1),
        ("007.50", "EUR", 750),
    ],
)
def test_parse_exact(text: str, code: str, minor: int) -> None:
    assert Money.parse(text, code) == Money(minor, code)


@pytest.mark.parametrize(
    ("text", "style", "minor"),
    [
        ("1,234.56", "point", 123456),
        ("(5.00)", "point", -500),
        ("5.00-", "point", -500),
        (" 12.30 ", "point", 1230),
        ("1.234,56", "comma", 123456),
        ("-0,01", "comma", -1),
        ("-0,00", "comma", 0),  # statements may write a negative zero: it is zero
    ],
)
def test_parse_statement_formats(text: str, style: DecimalStyle, minor: int) -> None:
    assert Money.parse_statement(text, "BRL", style).minor == minor


@pytest.mark.parametrize(
    "text",
    [
        "12.345", "NaN", "nan", "inf", "-Infinity", "1e3", "", " ", "1,23.45", "12.", ".5", "1.2.3", "abc", "--1",
        # the API takes one spelling: no whitespace, separators, bank notations or other scripts' digits
        " 1.00", "1.00 ", "1 000", "\u00a01", "1,234.56", "(5.00)", "5.00-", "+-1", "1.00\n",
        "١٢٣", "१२३", "１２３", "1.٥",
        # zero has one sign: none (or +)
        "-0", "-0.00", "-000.0",
    ],
)  # fmt: skip
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(text, "BRL")


@pytest.mark.parametrize("text", ["١٢٣", "1,٥٠", " ", "--1", "1e3"])
def test_parse_statement_rejects(text: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse_statement(text, "BRL", "comma")


@pytest.mark.parametrize("bad", [1.5, 0.1, True, None, Decimal("1.00"), b"12"])
def test_parse_rejects_non_strings(bad: object) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(bad, "BRL")


@pytest.mark.parametrize("bad", [1.0, True, "12", None])
def test_constructor_rejects_non_integers(bad: object) -> None:
    with pytest.raises(InvalidMoney):
        Money(bad, "BRL")  # type: ignore[arg-type]


def test_unknown_currency_and_overflow() -> None:
    with pytest.raises(InvalidMoney):
        Money(1, "XXX")
    with pytest.raises(InvalidMoney):
        Money(MAX_MINOR + 1, "BRL")
    with pytest.raises(InvalidMoney):
        Money.parse("99999999999999999999", "BRL")
    with pytest.raises(InvalidMoney):
        Money.parse("9" * 5000, "BRL")  # refused before int() (which limits itself to 4,300 digits)


def test_cross_currency_arithmetic_raises() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(1, "BRL") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "BRL") < Money(1, "USD")


@given(money())
def test_decimal_string_round_trip(amount: Money) -> None:
    assert Money.parse(amount.to_decimal_string(), amount.currency) == amount
    assert Money.parse(str(amount).split()[0], amount.currency.code) == amount
    assert amount.to_decimal() * 10**amount.currency.exponent == amount.minor


@given(money())
def test_comma_style_round_trip(amount: Money) -> None:
    text = amount.to_decimal_string().replace(".", ",")
    assert Money.parse_statement(text, amount.currency, "comma") == amount


@given(money("BRL", -(10**12), 10**12), money("BRL", -(10**12), 10**12))
def test_addition_is_exact(a: Money, b: Money) -> None:
    assert (a + b).minor == a.minor + b.minor
    assert (a + b) - b == a
    assert (-a).minor == -a.minor
    assert a + (-a) == Money.zero("BRL")


@given(money(min_minor=-(10**12), max_minor=10**12), st.lists(st.integers(0, 10_000), min_size=1, max_size=10))
def test_allocate_never_loses_a_cent(amount: Money, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights[0] = 1
    parts = amount.allocate(weights)
    assert sum(p.minor for p in parts) == amount.minor
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(amount.minor) * weight / total
        assert abs(Decimal(part.minor) - exact) < 1


@given(currencies())
def test_zero_formats(cur: object) -> None:
    zero = Money.zero(cur)  # type: ignore[arg-type]
    assert Money.parse(zero.to_decimal_string(), zero.currency) == zero
