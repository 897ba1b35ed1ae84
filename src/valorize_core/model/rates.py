"""Exchange rates: exact decimals, dated, with their source, and how an amount is converted.

A :class:`Rate` says that on ``on``, one unit of ``base`` was worth ``value`` units of ``quote``
(``Rate(EUR, BRL, 2026-03-02, 6.1234)``: 1 EUR = 6.1234 BRL). Values are :class:`~decimal.Decimal`
read from text, never floats.

:class:`RateBook` answers "how many ``quote`` per ``base`` on a day" from the rates it holds:

1. **Date**: the newest rate dated on or before the day, at most :data:`MAX_RATE_AGE_DAYS`
   earlier (reference rates are not published on weekends and holidays); none → missing.
2. **Direct, else inverse**: ``base→quote`` as stored, or ``1 / (quote→base)``; when both
   exist the newer one wins, the direct one on a tie.
3. **Cross through the pivot** (EUR, the ECB's base, unless told otherwise):
   ``base→quote = (pivot→quote) / (pivot→base)``, each leg found as in 1–2.
4. A tenant's own rate for a pair and day is preferred to the global default's.

**Rounding.** Derived rates (inverse and cross) are computed with 28 significant digits and
rounded half-even to :data:`RATE_DIGITS` (12) significant digits; stored rates are used as
stored. A converted amount is ``amount × rate`` rounded half-even to the target currency's
minor unit, once per amount: a total converted from many amounts is the sum of their rounded
conversions, so a report's converted total always equals the sum of its converted lines.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Currency, Money, currency
from valorize_core.model.text import clean_text

__all__ = [
    "MAX_RATE_AGE_DAYS",
    "PIVOT",
    "RATE_DIGITS",
    "Conversion",
    "Quote",
    "Rate",
    "RateBook",
    "parse_rate",
]

MAX_RATE_AGE_DAYS = 7
"""How much older than the day a rate may be and still count for it."""

RATE_DIGITS = 12
"""Significant digits of a derived (inverse or cross) rate."""

PIVOT = "EUR"

_RATE_TEXT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,12})?")
_WIDE = Context(prec=28, rounding=ROUND_HALF_EVEN)


def parse_rate(value: object, field_name: str = "rate") -> Decimal:
    """A positive rate from its decimal text (``"6.1234"``): ASCII digits, at most 12 before and
    12 after the point, no sign, exponent, ``NaN`` or float. Trailing zeros are dropped."""
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value
    else:
        raise ValidationError.for_field(field_name, f"a rate is a decimal string, got {type(value).__name__}")
    if not _RATE_TEXT.fullmatch(text):
        raise ValidationError.for_field(field_name, f"{text[:40]!r} is not a rate like 6.1234")
    rate = Decimal(text)
    if rate <= 0:
        raise ValidationError.for_field(field_name, "a rate is above zero")
    return Decimal(format(rate.normalize(), "f"))  # one spelling per value: "6.10" is 6.1


def _significant(value: Decimal) -> Decimal:
    """``value`` rounded half-even to :data:`RATE_DIGITS` significant digits."""
    with localcontext(Context(prec=RATE_DIGITS, rounding=ROUND_HALF_EVEN)):
        return +value


@dataclass(frozen=True, slots=True)
class Rate:
    """On ``on``, 1 ``base`` = ``value`` ``quote``; ``source`` says where it came from (``ecb``,
    ``manual``, …); ``shared``: a global default rather than the tenant's own."""

    base: Currency
    quote: Currency
    on: date
    value: Decimal
    source: str
    shared: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", currency(self.base))
        object.__setattr__(self, "quote", currency(self.quote))
        if self.base == self.quote:
            raise ValidationError.for_field("quote", "a rate is between two different currencies")
        object.__setattr__(self, "value", parse_rate(self.value))
        object.__setattr__(self, "source", clean_text(self.source, "source", 50))
        if not self.source:
            raise ValidationError.for_field("source", "a rate names its source")

    @property
    def pair(self) -> tuple[str, str]:
        """``(base, quote)`` codes."""
        return self.base.code, self.quote.code


@dataclass(frozen=True, slots=True)
class Quote:
    """How many ``quote`` per ``base`` on ``on``, and the stored rates it came from."""

    base: str
    quote: str
    on: date
    value: Decimal
    derivation: str  # "direct", "inverse" or "cross"
    used: tuple[Rate, ...]


@dataclass(frozen=True, slots=True)
class Conversion:
    """An amount converted: the original, the result and the quote used."""

    original: Money
    converted: Money
    quote: Quote | None  # None: same currency


@dataclass(slots=True)
class RateBook:
    """The rates a report may use, answering :meth:`quote` and :meth:`convert` (see the module)."""

    rates: Iterable[Rate]
    pivot: str = PIVOT
    _by_pair: dict[tuple[str, str], list[Rate]] = field(init=False)
    _days: dict[tuple[str, str], list[date]] = field(init=False)

    def __post_init__(self) -> None:
        chosen: dict[tuple[str, str, date], Rate] = {}
        for rate in self.rates:
            key = (*rate.pair, rate.on)
            held = chosen.get(key)
            if held is None or (held.shared and not rate.shared):  # the tenant's own rate wins
                chosen[key] = rate
        by_pair: dict[tuple[str, str], list[Rate]] = defaultdict(list)
        for (base, quote, _), rate in sorted(chosen.items(), key=lambda item: item[0][2]):
            by_pair[(base, quote)].append(rate)
        self._by_pair = dict(by_pair)
        self._days = {pair: [r.on for r in rates] for pair, rates in self._by_pair.items()}

    def _latest(self, base: str, quote: str, on: date) -> Rate | None:
        days = self._days.get((base, quote))
        if not days:
            return None
        i = bisect_right(days, on)  # the rates are oldest first: a binary search, not a scan
        if i == 0 or (on - days[i - 1]) > timedelta(days=MAX_RATE_AGE_DAYS):
            return None
        return self._by_pair[(base, quote)][i - 1]

    def _leg(self, base: str, quote: str, on: date) -> Quote | None:
        direct, inverse = self._latest(base, quote, on), self._latest(quote, base, on)
        if direct is not None and (inverse is None or direct.on >= inverse.on):
            return Quote(base, quote, direct.on, direct.value, "direct", (direct,))
        if inverse is not None:
            with localcontext(_WIDE):
                value = _significant(Decimal(1) / inverse.value)
            return Quote(base, quote, inverse.on, value, "inverse", (inverse,))
        return None

    def quote(self, base: Currency | str, quote: Currency | str, on: date) -> Quote | None:
        """How many ``quote`` per ``base`` on ``on``, or ``None`` when no rate gives it."""
        b, q = currency(base).code, currency(quote).code
        if b == q:
            return Quote(b, q, on, Decimal(1), "direct", ())
        found = self._leg(b, q, on)
        if found is not None or self.pivot in (b, q):
            return found
        to_quote, to_base = self._leg(self.pivot, q, on), self._leg(self.pivot, b, on)
        if to_quote is None or to_base is None:
            return None
        with localcontext(_WIDE):
            value = _significant(to_quote.value / to_base.value)
        dated = min(to_quote.on, to_base.on)
        return Quote(b, q, dated, value, "cross", to_base.used + to_quote.used)

    def convert(self, amount: Money, target: Currency | str, on: date) -> Conversion | None:
        """``amount`` in ``target`` at the quote for ``on`` (rounded half-even to the minor unit),
        or ``None`` when the rate is missing."""
        to = currency(target)
        if amount.currency == to:
            return Conversion(amount, amount, None)
        found = self.quote(amount.currency, to, on)
        if found is None:
            return None
        return Conversion(amount, convert_at(amount, to, found.value), found)


def convert_at(amount: Money, target: Currency, rate: Decimal) -> Money:
    """``amount × rate`` in ``target``, rounded half-even to its minor unit."""
    with localcontext(_WIDE):
        exact = amount.to_decimal() * rate
        minor = (exact * (Decimal(10) ** target.exponent)).to_integral_value(rounding=ROUND_HALF_EVEN)
    return Money(int(minor), target)
