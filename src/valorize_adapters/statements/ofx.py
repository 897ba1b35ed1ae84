"""OFX bank and card statements through ``ofxtools`` (SGML 1.x and XML 2.x)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ofxtools.Parser import OFXTree

from valorize_core.model.errors import DomainError, ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.statements.imports import RowError
from valorize_core.model.statements.rows import ParsedStatement, StatementBalance, StatementRow
from valorize_core.model.text import clean_text

__all__ = ["OfxStatementParser"]

# ofxtools reads a file with backtracking regular expressions that are super-linear on some
# inputs a caller can upload (measured on ofxtools 1.1.1): its XML-declaration pattern is
# O(n⁴) in a run of whitespace after ``<?xml`` (400 spaces: 8.6 s), its OFX 1 header pattern
# O(n²) in a run of whitespace within the header's nine lines (40,000 spaces: 4.7 s), and its
# body tokenizer O(n²) in unterminated ``<![CDATA[`` sections on one line (100 kB: 7.7 s). One
# such file held the worker's event loop for hours. The shapes are refused before ofxtools
# runs, in one linear pass; a bank's file has none of them.
MAX_HEADER_WHITESPACE = 64  # the longest run of whitespace taken in the header's lines
_HEADER_LINES = 9  # what ofxtools reads as the header: the first non-blank line and eight more
_CDATA_OPEN, _CDATA_CLOSE = b"<![CDATA[", b"]]>"


def _refuse_super_linear(content: bytes) -> None:
    """A :class:`ValidationError` for a file on which ofxtools' patterns backtrack without
    bound; linear in the file's size."""
    lines = content.split(b"\n")
    first = next((i for i, line in enumerate(lines[:8]) if line.strip()), 0)
    header = b"\n".join(lines[first : first + _HEADER_LINES]).decode("latin-1")
    run = 0
    for char in header:
        run = run + 1 if char.isspace() else 0
        if run > MAX_HEADER_WHITESPACE:
            raise ValidationError.for_field(
                "file", f"not a readable OFX file: a run of more than {MAX_HEADER_WHITESPACE} blanks in its header"
            )
    for line in lines:
        if line.rfind(_CDATA_OPEN) > line.rfind(_CDATA_CLOSE):  # an opened section this line never closes
            raise ValidationError.for_field("file", "not a readable OFX file: a CDATA section left open on its line")


class OfxStatementParser:
    """Rows from the statement's transactions; FITID is the bank id used for deduplication;
    ``LEDGERBAL`` is the closing balance."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"skip_invalid_rows", "mapping"}
        if unknown:
            raise ValidationError.for_field("options", f"OFX takes no {', '.join(sorted(unknown))}")

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        _refuse_super_linear(content)
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
        return ParsedStatement(tuple(rows), tuple(errors), _ledger_balance(statement, currency))


def _ledger_balance(statement: Any, currency: Currency) -> StatementBalance | None:
    """``LEDGERBAL``: the booked balance at ``DTASOF`` (None when the statement has none)."""
    ledger = getattr(statement, "balance", None)
    if ledger is None or ledger.balamt is None or ledger.dtasof is None:
        return None
    try:
        return StatementBalance(Money.parse(format(ledger.balamt, "f"), currency), ledger.dtasof.date())
    except DomainError:
        return None
