"""QIF (Quicken Interchange Format) bank, cash and card lists through ``quiffen``.

QIF writes dates without saying their order: ``mapping.day_first`` declares it; without it the
file's ``D`` lines decide when one of them can only be read one way (a day above 12), and the
Quicken default, month first, holds otherwise. QIF amounts use a decimal point; a ``T`` line
with a decimal comma is refused rather than read a hundred times too large (``quiffen`` drops
every character but digits, point and minus).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from quiffen import Qif
from quiffen.core.account import AccountType

from valorize_core.model.errors import DomainError, ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.statements.imports import RowError
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.model.statements.sniffing import decode_statement
from valorize_core.model.text import clean_text

__all__ = ["QifStatementParser"]

_BANKING = {AccountType.BANK, AccountType.CASH, AccountType.CREDIT_CARD, AccountType.OTH_A, AccountType.OTH_L}
_DATE_PARTS = re.compile(r"(\d{1,2})\s*[/.\-']\s*(\d{1,2})")
_COMMA_DECIMAL = re.compile(r",\d{1,2}$")
MAX_LINE = 2048


def _day_first(text: str, declared: object) -> bool:
    if isinstance(declared, bool):
        return declared
    if declared is not None:
        raise ValidationError.for_field("mapping.day_first", "must be true or false")
    for line in text.splitlines():
        if line.startswith("D"):
            found = _DATE_PARTS.match(line[1:].strip())
            if found:
                first, second = int(found.group(1)), int(found.group(2))
                if first > 12:
                    return True
                if second > 12:
                    return False
    return False


class QifStatementParser:
    """Rows from the file's bank, cash and card transactions (``P`` payee, ``M`` memo)."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"skip_invalid_rows", "mapping"}
        if unknown:
            raise ValidationError.for_field("options", f"QIF takes no {', '.join(sorted(unknown))}")
        mapping = options.get("mapping") or {}
        if not isinstance(mapping, Mapping) or set(mapping) - {"day_first"}:
            raise ValidationError.for_field("mapping", "QIF takes only day_first")
        if not isinstance(mapping.get("day_first", False), bool):
            raise ValidationError.for_field("mapping.day_first", "must be true or false")

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        self.check_options(options)
        text = decode_statement(content, "auto").replace("\r\n", "\n").replace("\r", "\n")
        for number, raw in enumerate(text.split("\n"), start=1):
            if len(raw) > MAX_LINE:
                raise ValidationError.for_field("file", f"not a readable QIF file: line {number} is too long")
            if raw.startswith("T") and _COMMA_DECIMAL.search(raw.strip()):
                raise ValidationError.for_field("file", f"line {number}: QIF amounts use a decimal point")
        day_first = _day_first(text, (options.get("mapping") or {}).get("day_first"))
        try:
            qif = Qif.parse_string(text.strip(), day_first=day_first)
        except Exception as exc:  # quiffen raises several types (its own, ValueError, pydantic's)
            raise ValidationError.for_field("file", f"not a readable QIF file: {exc}") from None
        rows: list[StatementRow] = []
        errors: list[RowError] = []
        for account in qif.accounts.values():
            for kind, transactions in account.transactions.items():
                if kind not in _BANKING:
                    continue
                for n, tx in enumerate(transactions, start=1):
                    line = tx.line_number or n
                    try:
                        payee = clean_text(tx.payee or "", "payee", 200)
                        memo = clean_text(tx.memo or "", "memo", 300)
                        description = " ".join(p for p in (payee, memo) if p) or "(no description)"
                        amount = Money.parse(format(tx.amount, "f"), currency)
                        booked = date(tx.date.year, tx.date.month, tx.date.day)
                        rows.append(StatementRow(line, booked, description, amount, payee))
                    except DomainError as exc:
                        errors.append(RowError(line, exc.message))
        if not rows and not errors:
            raise ValidationError.for_field("file", "the QIF file holds no bank, cash or card transaction")
        return ParsedStatement(tuple(rows), tuple(errors))
