"""Exchange rates: exact parsing, the ECB files, lookup by date, inverse and cross rates, rounding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valorize_core.model.ecb import parse_ecb
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money, currency
from valorize_core.model.rates import MAX_RATE_AGE_DAYS, Rate, RateBook, convert_at, parse_rate

ECB = Path(__file__).parent.parent / "fixtures" / "ecb"
DAY = date(2026, 12, 4)


def rate(base: str, quote: str, value: str, on: date = DAY, *, shared: bool = False) -> Rate:
    return Rate(currency(base), currency(quote), on, Decimal(value), "test", shared)


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["6.1234", "1", "0.000000000001", "17512.37", "999999999999.999999999999"])
def test_rates_are_exact_decimal_text(text: str) -> None:
    assert parse_rate(text) == Decimal(text)


@pytest.mark.parametrize("bad", ["0", "0.0", "-1", "1e3", "NaN", "inf", " 1.2", "1,2", "١٢", "1.", ".5", 1.5, 2])
def test_bad_rates_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        parse_rate(bad)


def test_a_rate_is_between_two_currencies_and_names_its_source() -> None:
    with pytest.raises(ValidationError):
        rate("BRL", "BRL", "1")
    with pytest.raises(ValidationError):
        Rate(currency("EUR"), currency("BRL"), DAY, Decimal("6"), "  ")


# -- the ECB files ---------------------------------------------------------------------------


def test_the_daily_csv() -> None:
    parsed = parse_ecb((ECB / "eurofxref.csv").read_bytes())
    by_code = {r.quote.code: r for r in parsed.rates}
    assert len(by_code) == 30
    assert by_code["BRL"].value == Decimal("6.1234")
    assert by_code["IDR"].value == Decimal("17512.37")
    assert by_code["USD"].base.code == "EUR"
    assert {r.on for r in parsed.rates} == {DAY}
    assert {r.source for r in parsed.rates} == {"ecb"}
    assert parsed.skipped == ()


def test_the_history_csv_skips_n_a_and_retired_codes() -> None:
    parsed = parse_ecb((ECB / "eurofxref-hist.csv").read_bytes())
    assert {(r.on, r.quote.code) for r in parsed.rates if r.on.year == 1999} == {
        (date(1999, 1, 4), "USD"),
        (date(1999, 1, 4), "JPY"),
        (date(1999, 1, 4), "CZK"),
    }
    assert parsed.skipped == ("CYP", "SIT")  # not ISO 4217 any more
    assert len(parsed.rates) == 2 * 5 + 3


def test_the_xml_files() -> None:
    parsed = parse_ecb((ECB / "eurofxref-hist-90d.xml").read_bytes())
    assert len(parsed.rates) == 8
    assert {(r.on, r.quote.code, r.value) for r in parsed.rates} >= {
        (DAY, "BRL", Decimal("6.1234")),
        (date(2026, 12, 3), "IDR", Decimal("17490.11")),
    }


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"Date, USD\n2026-13-01, 1.0\n",
        b"Date, USD\n2026-W49-5, 1.0\n",
        b"Date, USD\n04 Dezember 2026, 1.0\n",
        b"Date, USD\n2026-12-01, -1.0\n",
        b"Date, USD\n2026-12-01, 1.0e2\n",
        b"Date, USD\n",
        b"<a><b/></a>",
        b"<unclosed",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b'<Envelope xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time="2026-12-04">'
        b'<Cube currency="USD"/></Cube></Cube></Envelope>',
    ],
)
def test_malformed_files_are_refused_whole(data: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_ecb(data)


# -- lookup, inverse and cross ---------------------------------------------------------------


def test_the_newest_rate_on_or_before_the_day_within_the_age_limit() -> None:
    book = RateBook([rate("EUR", "BRL", "6.0", date(2026, 12, 1)), rate("EUR", "BRL", "6.2", date(2026, 12, 3))])
    assert book.quote("EUR", "BRL", date(2026, 12, 2)).value == Decimal("6.0")  # type: ignore[union-attr]
    assert book.quote("EUR", "BRL", date(2026, 12, 6)).value == Decimal("6.2")  # type: ignore[union-attr]
    assert book.quote("EUR", "BRL", date(2026, 11, 30)) is None  # nothing before
    late = date(2026, 12, 3 + MAX_RATE_AGE_DAYS + 1)
    assert book.quote("EUR", "BRL", late) is None  # too old


def test_inverse_and_cross_rates_through_the_pivot() -> None:
    book = RateBook([rate("EUR", "BRL", "6.1234"), rate("EUR", "USD", "1.0512")])
    inverse = book.quote("BRL", "EUR", DAY)
    assert inverse is not None
    assert inverse.derivation == "inverse"
    assert inverse.value == Decimal("0.163307966163")  # 1 / 6.1234 = 0.16330796616258…, 12 significant digits
    cross = book.quote("BRL", "USD", DAY)
    assert cross is not None
    assert cross.derivation == "cross"
    assert cross.value == Decimal("0.171669334030")  # 1.0512 / 6.1234 = 0.17166933403011…
    assert [r.pair for r in cross.used] == [("EUR", "BRL"), ("EUR", "USD")]
    assert book.quote("BRL", "JPY", DAY) is None  # a missing leg is missing, never zero


def test_the_tenants_own_rate_wins_over_the_global_default() -> None:
    book = RateBook([rate("EUR", "BRL", "6.0", shared=True), rate("EUR", "BRL", "6.5")])
    assert book.quote("EUR", "BRL", DAY).value == Decimal("6.5")  # type: ignore[union-attr]


def test_conversion_rounds_half_even_to_the_minor_unit() -> None:
    assert convert_at(Money(1, "BRL"), currency("USD"), Decimal("0.5")) == Money(0, "USD")  # 0.005 → 0.00
    assert convert_at(Money(3, "BRL"), currency("USD"), Decimal("0.5")) == Money(2, "USD")  # 0.015 → 0.02
    assert convert_at(Money(-10000, "USD"), currency("JPY"), Decimal("150.425")) == Money(-15042, "JPY")
    assert convert_at(Money(100, "EUR"), currency("CLF"), Decimal("0.0271")) == Money(271, "CLF")


@given(
    st.integers(-(10**10), 10**10),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4),
)
def test_conversion_is_within_half_a_minor_unit_of_exact(minor: int, value: Decimal) -> None:
    converted = convert_at(Money(minor, "BRL"), currency("USD"), value)
    exact = Decimal(minor) * value  # both have 2 decimals
    assert abs(Decimal(converted.minor) - exact) <= Decimal("0.5")
