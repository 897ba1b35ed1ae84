"""Types the resources share: text and amount constraints, money, and the problem document.

Money is a decimal string with its currency: ``{"amount": "-12.34", "currency": "BRL"}``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from valorize_core.model.money import CURRENCY_EXPONENTS, Money

__all__ = [
    "AMOUNT_PATTERN",
    "CURRENCY_PATTERN",
    "EMAIL_PATTERN",
    "NAME_PATTERN",
    "POSITIVE_AMOUNT_PATTERN",
    "TEXT_PATTERN",
    "AccountKindName",
    "Amount",
    "CategoryKindName",
    "CurrencyCode",
    "Day",
    "Email",
    "ExternalId",
    "FieldErrorOut",
    "JsonObject",
    "MoneyOut",
    "Name",
    "Payee",
    "PositiveAmount",
    "ProblemOut",
    "RateText",
    "ShortName",
    "Tag",
    "Text",
    "encode",
    "money",
]


# The domain refuses control characters other than tab in any text, and names that are blank
# (valorize_core/model/text.py): the patterns say so, so the schema allows exactly what is taken.
# Character classes are spelled out: ``\s`` means different sets to ECMA-262 (the schema's
# reader) and to Python (msgspec, the domain); this is Python's whitespace plus U+FEFF.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_SPACE}{_CONTROL}][^{_CONTROL}]*$"
EMAIL_PATTERN = rf"^[^@{_SPACE}{_CONTROL}]+@[^@{_SPACE}{_CONTROL}]+\.[^@{_SPACE}{_CONTROL}]+$"
# Dates the domain takes: years 1900 to 2999 (valorize_core/use_cases/actions/_shared.py).
Day = Annotated[date, Meta(extra_json_schema={"pattern": "^(?:19[0-9]{2}|2[0-9]{3})-"})]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NAME_PATTERN)]
ShortName = Annotated[str, Meta(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Text = Annotated[str, Meta(max_length=500, pattern=TEXT_PATTERN)]
Payee = Annotated[str, Meta(max_length=200, pattern=TEXT_PATTERN)]
ExternalId = Annotated[str, Meta(max_length=255, pattern=TEXT_PATTERN)]
Email = Annotated[str, Meta(min_length=3, max_length=320, pattern=EMAIL_PATTERN)]
# Money.parse's grammar: ASCII digits, one optional sign and point, and no negative zero (a
# minus needs a non-zero digit). Decimals beyond the currency's are refused by the domain (422).
AMOUNT_PATTERN = r"^(?:\+?[0-9]+(?:\.[0-9]+)?|-(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*))$"
POSITIVE_AMOUNT_PATTERN = r"^\+?(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)$"
PositiveAmount = Annotated[
    str, Meta(min_length=1, max_length=40, pattern=POSITIVE_AMOUNT_PATTERN, examples=["500.00"],
              description="A decimal amount above zero"),
]  # fmt: skip
Amount = Annotated[
    str,
    Meta(
        min_length=1, max_length=40, pattern=AMOUNT_PATTERN, examples=["-12.34"],
        description="A decimal amount: [+-]digits[.digits], ASCII digits, no negative zero",
    ),
]  # fmt: skip
# An active ISO 4217 code, upper case: the schema lists exactly the codes the domain knows.
CURRENCY_PATTERN = f"^(?:{'|'.join(sorted(CURRENCY_EXPONENTS))})$"
CurrencyCode = Annotated[str, Meta(pattern=CURRENCY_PATTERN, examples=["BRL"], description="ISO 4217, upper case")]
RateText = Annotated[
    str,
    Meta(pattern=r"^[0-9]{1,12}(\.[0-9]{1,12})?$", examples=["6.1234"],
         description="An exchange rate: a positive decimal, at most 12 digits each side of the point"),
]  # fmt: skip
Tag = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[\w\-:./]+$")]
AccountKindName = Literal["checking", "savings", "credit_card", "cash", "investment", "loan"]
CategoryKindName = Literal["expense", "income"]


class MoneyOut(Struct, frozen=True):
    amount: str
    currency: str


def money(m: Money) -> MoneyOut:
    return MoneyOut(m.to_decimal_string(), m.currency.code)


JsonObject = dict[str, Any]


def encode(value: Any) -> bytes:
    """JSON bytes of a DTO."""
    return msgspec.json.encode(value)


class FieldErrorOut(Struct):
    field: str
    message: str


class ProblemOut(Struct, omit_defaults=True):
    """RFC 9457 problem details, as every error is answered."""

    status: int
    title: str | None = None
    detail: str | None = None
    type: str | None = None
    code: str | None = None
    errors: list[FieldErrorOut] | None = None
