"""OFX bank and card statements through ``ofxtools`` (SGML 1.x and XML 2.x)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ofxtools.Parser import OFXTree

from valorize_core.errors import DomainError, ValidationError
from valorize_core.money import Currency, Money
from valorize_core.statements.imports import RowError
from valorize_core.statements.rows import ParsedStatement, StatementRow
from valorize_core.text import clean_text

__all__ = ["OfxStatementParser"]


class OfxStatementParser:
    """Rows from the statement's transactions; FITID is the bank id used for deduplication."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"skip_invalid_rows", "mapping"}
        if unknown:
            raise ValidationError.for_field("options", f"OFX takes no {', '.join(sorted(unknown))}")

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        try:
            tree = OFXTree()
            tree.parse(io.BytesIO(content))
            statements = tree.convert().statements
        except Exception as exc:  # ofxtools raises many types for unreadable files
            raise ValidationError.for_field("file", f"not a readable OFX file: {exc}") from None
        if not statements:
            raise ValidationError.for_field("file", "the OFX file holds no statement")
        statement = statements[0]
        if str(statement.curdef).upper() != currency.code:
            raise ValidationError.for_field("file", f"the statement is in {statement.curdef}, not {currency.code}")
        rows: list[StatementRow] = []
        errors: list[RowError] = []
        for line, tx in enumerate(statement.transactions, start=1):
            try:
                name = clean_text(tx.name or "", "name", 200)
                memo = clean_text(tx.memo or "", "memo", 300)
                description = " ".join(p for p in (name, memo) if p) or "(no description)"
                amount = Money.parse(format(tx.trnamt, "f"), currency)
                rows.append(StatementRow(line, tx.dtposted.date(), description, amount, name, str(tx.fitid) or None))
            except DomainError as exc:
                errors.append(RowError(line, exc.message))
        return ParsedStatement(tuple(rows), tuple(errors))
