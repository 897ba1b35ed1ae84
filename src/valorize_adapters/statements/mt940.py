"""SWIFT MT940 statements through ``mt-940``.

The library is given a text stream, never bytes or a string: given those it first looks for a
file of that name and reads it. Its tag patterns are bounded per field, but a caller's file is
refused first when a line or a field's run of continuation lines is longer than the standard
allows many times over (:data:`MAX_LINE`, :data:`MAX_FIELD_LINES`), so no pattern ever sees a
long value.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

import mt940

from valorize_core.model.errors import DomainError, ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.statements.imports import RowError
from valorize_core.model.statements.rows import ParsedStatement, StatementBalance, StatementRow
from valorize_core.model.statements.sniffing import decode_statement
from valorize_core.model.text import clean_text

__all__ = ["MAX_FIELD_LINES", "MAX_LINE", "Mt940StatementParser"]

MAX_LINE = 512  # the standard's lines are at most 65 characters
MAX_FIELD_LINES = 32  # :86: has at most 6 lines


def _refuse_oversized(text: str) -> None:
    run = 0
    for line in text.splitlines():
        if len(line) > MAX_LINE:
            raise ValidationError.for_field("file", f"not a readable MT940 file: a line longer than {MAX_LINE}")
        run = 0 if line.startswith((":", "-")) else run + 1
        if run > MAX_FIELD_LINES:
            raise ValidationError.for_field("file", "not a readable MT940 file: a field of too many lines")


def _date(value: Any) -> date:
    return date(value.year, value.month, value.day)


def _money(amount: Any, currency: Currency) -> Money:
    if str(amount.currency).upper() != currency.code:
        raise ValidationError.for_field("file", f"the statement is in {amount.currency}, not {currency.code}")
    return Money.parse(format(amount.amount, "f"), currency)


class Mt940StatementParser:
    """Rows from every ``:61:`` line with its ``:86:`` details; the bank reference (after
    ``//``) is the row's bank id; ``:62F:`` is the closing balance."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"skip_invalid_rows", "mapping"}
        if unknown:
            raise ValidationError.for_field("options", f"MT940 takes no {', '.join(sorted(unknown))}")

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        text = decode_statement(content, "auto")
        _refuse_oversized(text)
        try:
            statements = mt940.parse_statements(io.StringIO(text))
        except Exception as exc:  # the library raises several types for unreadable files
            raise ValidationError.for_field("file", f"not a readable MT940 file: {exc}") from None
        rows: list[StatementRow] = []
        errors: list[RowError] = []
        closing: StatementBalance | None = None
        line = 0
        for statement in statements:
            for tx in statement:
                line += 1
                data = tx.data
                try:
                    amount = _money(data["amount"], currency)
                    name = clean_text(data.get("applicant_name") or "", "name", 200)
                    details = data.get("purpose") or data.get("transaction_details") or data.get("posting_text") or ""
                    description = clean_text(" ".join(str(details).split()), "description", 500) or name
                    reference = str(data.get("bank_reference") or "").strip()
                    external = reference if reference and reference.upper() != "NONREF" else None
                    booked = _date(data.get("entry_date") or data["date"])
                    rows.append(StatementRow(line, booked, description or "(no description)", amount,
                                             name, external))  # fmt: skip
                except DomainError as exc:
                    errors.append(RowError(line, exc.message))
                except (KeyError, ValueError, AttributeError) as exc:
                    errors.append(RowError(line, f"not a readable transaction: {exc}"))
            balance = statement.data.get("final_closing_balance")
            if balance is not None:
                closing = StatementBalance(_money(balance.amount, currency), _date(balance.date))
        if not rows and not errors and closing is None:
            raise ValidationError.for_field("file", "not a readable MT940 file: no statement in it")
        return ParsedStatement(tuple(rows), tuple(errors), closing)
