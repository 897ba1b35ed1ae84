"""Exact money: integer minor units and an ISO 4217 currency.

No float ever becomes money. Decimal strings are parsed and formatted exactly (:meth:`Money.parse` for the API's one
spelling, :meth:`Money.parse_statement` for what bank statements write)::

    >>> Money.parse("-12.34", "BRL").minor
    -1234
    >>> str(Money(-1234, "BRL"))
    '-12.34 BRL'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from valorize_core.model.errors import CurrencyMismatch, InvalidMoney

__all__ = [
    "CURRENCY_EXPONENTS",
    "CURRENCY_SYMBOLS",
    "MAX_MINOR",
    "WITHDRAWN_CURRENCIES",
    "Currency",
    "DecimalStyle",
    "Money",
    "active_currency",
    "currency",
    "decimal_string",
]

# ISO 4217 List One as published on 2026-01-01 (the `iso4217` package's table; a test holds this
# to it): every code with a minor unit, funds and units of account included (CLF and UYW have
# four decimals). Codes without one — precious metals (XAU…), bond units (XBA…), XDR, XSU, XUA,
# XTS and XXX — are not money here.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
    "BAM": 2, "BBD": 2, "BDT": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BOV": 2,
    "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2,
    "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUP": 2,
    "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2,
    "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0,
    "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
    "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2,
    "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2,
    "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2,
    "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2,
    "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2,
    "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
    "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2,
    "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2,
    "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0,
    "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2, "VED": 2, "VES": 2, "VND": 0,
    "VUV": 0, "WST": 2, "XAD": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0, "YER": 2,
    "ZAR": 2, "ZMW": 2, "ZWG": 2,
}  # fmt: skip

# Withdrawn codes: still read (stored accounts, historic rates), never opened anew — the API's
# schema lists only the active ones and ``active_currency`` refuses these, naming the successor.
WITHDRAWN_CURRENCIES: dict[str, tuple[int, str]] = {
    "ANG": (2, "XCG"),  # Netherlands Antillean guilder → Caribbean guilder, 2025
    "BGN": (2, "EUR"),  # Bulgarian lev → euro, 2026
    "CUC": (2, "CUP"),  # Cuban convertible peso, 2021
    "HRK": (2, "EUR"),  # Croatian kuna → euro, 2023
    "SLL": (2, "SLE"),  # old leone, 2023
    "VEF": (2, "VES"),  # bolívar fuerte, 2018
    "ZWL": (2, "ZWG"),  # Zimbabwe dollar → Zimbabwe gold, 2024
}

# Every amount fits comfortably in a signed 64-bit column, and so do sums of thousands of them.
MAX_MINOR = 10**15 - 1

DecimalStyle = Literal["point", "comma"]
"""``point``: ``1,234.56`` (thousands ``,``, decimals ``.``); ``comma``: ``1.234,56``."""

# The one spelling of an amount: ASCII digits (``\d`` would take any script's), one optional
# sign, one optional point.
_CANONICAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and the number of digits after its decimal point."""

    code: str
    exponent: int

    def __str__(self) -> str:
        return self.code


def decimal_string(minor: int, exponent: int) -> str:
    """An amount of minor units as a plain decimal string, e.g. ``"-12.34"`` (exponent 2)."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor))
    if exponent == 0:
        return sign + digits
    digits = digits.rjust(exponent + 1, "0")
    return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"


def currency(code: object) -> Currency:
    """The :class:`Currency` for an ISO 4217 code (case-insensitive)."""
    if isinstance(code, Currency):
        return code
    if not isinstance(code, str):
        raise InvalidMoney.for_field("currency", f"must be an ISO 4217 code, got {type(code).__name__}")
    upper = code.strip().upper()
    found = _CURRENCIES.get(upper)
    if found is None:
        raise InvalidMoney.for_field("currency", f"unknown ISO 4217 currency {code[:10]!r}")
    return found


def active_currency(code: object) -> Currency:
    """Like :func:`currency`, but a withdrawn code (``ANG``) is refused, naming its successor:
    what opening an account or setting a budget takes."""
    found = currency(code)
    withdrawn = WITHDRAWN_CURRENCIES.get(found.code)
    if withdrawn is not None:
        raise InvalidMoney.for_field("currency", f"{found.code} was withdrawn from ISO 4217; use {withdrawn[1]}")
    return found


_CURRENCIES = {
    **{code: Currency(code, exp) for code, (exp, _) in WITHDRAWN_CURRENCIES.items()},
    **{code: Currency(code, exp) for code, exp in CURRENCY_EXPONENTS.items()},
}


@dataclass(frozen=True, slots=True, init=False)
class Money:
    """An exact amount: integer ``minor`` units of ``currency``.

    ``Money(1234, "BRL")`` is R$ 12,34. Floats, booleans and amounts beyond ``MAX_MINOR`` are
    rejected. Arithmetic and ordering across currencies raise :class:`CurrencyMismatch`.
    """

    minor: int
    currency: Currency

    def __init__(self, minor: int, currency_code: Currency | str) -> None:
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise InvalidMoney.for_field("amount", f"minor units must be an integer, got {type(minor).__name__}")
        if abs(minor) > MAX_MINOR:
            raise InvalidMoney.for_field("amount", "amount is too large")
        object.__setattr__(self, "minor", minor)
        object.__setattr__(self, "currency", currency(currency_code))

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def zero(cls, currency_code: Currency | str) -> Money:
        """Zero in ``currency_code``."""
        return cls(0, currency_code)

    @classmethod
    def parse(cls, text: object, currency_code: Currency | str) -> Money:
        """Parse an amount as the API takes it, exactly: ``[+-]digits[.digits]``.

        ASCII digits only, one optional leading sign, one optional ``.`` with digits on both
        sides, nothing else: no whitespace, no thousands separators, no other scripts' digits
        (``"١٢٣"``), no exponents, ``NaN`` or ``inf``. More decimals than the currency has is an
        error, and so is a negative zero (``"-0"``, ``"-0.00"``): zero has one spelling, ``"0"``
        (or ``"+0"``). An ``int`` is a whole amount.
        """
        cur = currency(currency_code)
        if isinstance(text, bool) or not isinstance(text, (str, int)):
            raise InvalidMoney.for_field("amount", f"must be a decimal string, got {type(text).__name__}")
        if isinstance(text, int):
            return cls(text * 10**cur.exponent, cur)
        if not _CANONICAL.fullmatch(text):
            raise InvalidMoney.for_field("amount", f"{text[:50]!r} is not a decimal amount like -12.34")
        amount = cls._exact(text, cur)
        if amount.minor == 0 and text.startswith("-"):
            raise InvalidMoney.for_field("amount", "a negative zero is not an amount: send 0")
        return amount

    @classmethod
    def parse_statement(cls, text: str, currency_code: Currency | str, style: DecimalStyle = "point") -> Money:
        """Parse an amount as bank statements write it, exactly.

        ``style="point"`` accepts ``-1234.56`` and ``1,234.56``; ``style="comma"`` accepts
        ``-1234,56`` and ``1.234,56``; both accept surrounding whitespace, a trailing minus
        (``12.34-``), accounting parentheses (``(12.34)``) and one symbol or the ISO code of the
        currency before or after the number, the sign on either side of it (``R$ -1.050,00``,
        ``-€12,30``, ``12,30 EUR``; ``CURRENCY_SYMBOLS``). Digits are ASCII only; a negative
        zero is zero. More decimals than the currency has is an error.
        """
        cur = currency(currency_code)
        if not isinstance(text, str):
            raise InvalidMoney.for_field("amount", f"must be a decimal string, got {type(text).__name__}")
        normal = _normalize_decimal(text, style, cur.code)
        if normal is None:
            raise InvalidMoney.for_field("amount", f"{text[:50]!r} is not a decimal amount in {cur.code}")
        return cls._exact(normal, cur)

    @classmethod
    def _exact(cls, canonical: str, cur: Currency) -> Money:
        """``canonical`` (matching ``_CANONICAL``) in minor units of ``cur``."""
        sign = -1 if canonical.startswith("-") else 1
        whole, _, frac = canonical.lstrip("+-").partition(".")
        if len(frac) > cur.exponent:
            raise InvalidMoney.for_field(
                "amount", f"{canonical[:50]!r} has more than {cur.exponent} decimal places for {cur.code}"
            )
        if len(whole.lstrip("0")) > 18:  # beyond MAX_MINOR whatever the exponent: refuse before int()
            raise InvalidMoney.for_field("amount", "amount is too large")
        minor = int(whole) * 10**cur.exponent + (int(frac.ljust(cur.exponent, "0")) if cur.exponent else 0)
        return cls(sign * minor, cur)

    # -- formatting -------------------------------------------------------------------------
    def to_decimal_string(self) -> str:
        """The amount as a plain decimal string, e.g. ``"-12.34"`` (no thousands separators)."""
        return decimal_string(self.minor, self.currency.exponent)

    def to_decimal(self) -> Decimal:
        """The amount as an exact :class:`~decimal.Decimal`."""
        return Decimal(self.to_decimal_string())

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency.code}"

    def __repr__(self) -> str:
        return f"Money({self.to_decimal_string()!r}, {self.currency.code!r})"

    # -- arithmetic -------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch.for_field(
                "currency", f"cannot combine {self.currency.code} with {other.currency.code}"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise InvalidMoney.for_field("amount", "money can only be multiplied by an integer")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def is_negative(self) -> bool:
        """True for outflows."""
        return self.minor < 0

    @staticmethod
    def total(amounts: Iterable[Money], currency_code: Currency | str) -> Money:
        """The exact sum of ``amounts``, all in ``currency_code`` (zero when empty)."""
        result = Money.zero(currency_code)
        for amount in amounts:
            result = result + amount
        return result

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to non-negative integer ``weights``, losing nothing.

        Uses the largest-remainder method: the parts always sum exactly to ``self`` and each
        differs from its exact share by less than one minor unit.
        """
        if not weights or any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
            raise InvalidMoney.for_field("weights", "weights must be non-negative integers")
        total = sum(weights)
        if total == 0:
            raise InvalidMoney.for_field("weights", "weights must not all be zero")
        sign = -1 if self.minor < 0 else 1
        magnitude = abs(self.minor)
        shares = [magnitude * w // total for w in weights]
        remainders = [magnitude * w % total for w in weights]
        left = magnitude - sum(shares)
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            shares[i] += 1
        return [Money(sign * s, self.currency) for s in shares]


# The symbols statements print beside an amount, by currency; the ISO code is always accepted.
# A symbol of another currency (``€`` on a BRL account) is refused, not ignored.
CURRENCY_SYMBOLS: dict[str, tuple[str, ...]] = {
    "BRL": ("R$",), "EUR": ("€",), "USD": ("US$", "$"), "GBP": ("£",), "JPY": ("¥", "￥"),
    "CNY": ("¥", "￥"), "CAD": ("CA$", "C$", "$"), "AUD": ("A$", "AU$", "$"), "MXN": ("MX$", "$"),
    "ARS": ("$",), "CLP": ("$",), "COP": ("$",), "UYU": ("$U", "$"), "CHF": ("Fr.", "CHF"),
    "INR": ("₹",), "KRW": ("₩",), "PLN": ("zł",), "SEK": ("kr",), "NOK": ("kr",), "DKK": ("kr.", "kr"),
    "RUB": ("₽",), "TRY": ("₺",), "ILS": ("₪",), "NGN": ("₦",), "PHP": ("₱",), "UAH": ("₴",),
}  # fmt: skip


def _strip_symbol(s: str, code: str | None) -> str:
    """``s`` without one currency symbol (or ISO code) of ``code`` before or after the number,
    keeping a sign written before the symbol (``-€12,30``, ``R$ -1.050,00``, ``12,30 EUR``)."""
    if code is None:
        return s
    symbols = sorted((*CURRENCY_SYMBOLS.get(code, ()), code), key=len, reverse=True)
    sign = ""
    body = s
    if body and body[0] in "+-":
        sign, body = body[0], body[1:]
    for symbol in symbols:
        if body.startswith(symbol):
            return sign + body[len(symbol) :]
        if body.endswith(symbol):
            return sign + body[: -len(symbol)]
    return s


def _normalize_decimal(text: str, style: DecimalStyle, code: str | None = None) -> str | None:
    """``text`` as ``[-+]digits[.digits]`` or None when it is not a decimal in ``style``;
    with ``code``, one of that currency's symbols may stand before or after the number."""
    s = text.strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    s = _strip_symbol(s, code)
    if not s:
        return None
    sign = ""
    if s[0] in "+-":
        sign, s = s[0], s[1:]
    # A trailing minus ("12.34-") is common in bank exports.
    elif s.endswith("-"):
        sign, s = "-", s[:-1]
    # Accounting negatives: "(12.34)".
    elif s.startswith("(") and s.endswith(")"):
        sign, s = "-", s[1:-1]
    thousands, point = (",", ".") if style == "point" else (".", ",")
    if thousands in s:
        whole, _, frac = s.partition(point)
        groups = whole.split(thousands)
        if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
            return None
        s = "".join(groups) + (point + frac if point in s else "")
    s = s.replace(point, ".")
    candidate = sign + s
    return candidate if _CANONICAL.fullmatch(candidate) else None
