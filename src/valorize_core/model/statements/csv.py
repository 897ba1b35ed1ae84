"""CSV bank statements: column mapping, date and decimal formats, per-row errors.

Pure functions: text in, rows and errors out. The mapping names columns by header (or by
0-based index when the file has no header). Amounts come from one signed column or from a
debit and a credit column. ``date_format`` and ``decimal_style`` may be ``auto``: found from
all the file's dates and amounts (:mod:`~valorize_core.model.statements.sniffing`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from valorize_core.model.errors import DomainError, ValidationError
from valorize_core.model.money import Currency, DecimalStyle, Money, currency
from valorize_core.model.statements.imports import RowError
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.model.statements.sniffing import ENCODINGS, detect_date_format, detect_decimal_style
from valorize_core.model.text import check_text, clean_text

__all__ = ["MAX_ROWS", "CsvMapping", "parse_csv"]

MAX_ROWS = 100_000
MAX_ERRORS = 1_000
_DATE_DIRECTIVES = ("%d", "%m", "%Y", "%y", "%b", "%B", "%j")


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """How to read one bank's CSV export.

    ``status_column``, when given, marks a row pending when its value is one of
    ``pending_values`` (case-insensitive); a later statement with the posted row updates it.
    Rows whose description is one of ``ignore_descriptions`` (case-insensitive) are balance
    lines some banks print among the transactions (``Saldo Anterior``), skipped. ``encoding``
    is the file's (``auto`` detects it; the CSV parser decodes).
    """

    date_column: str
    description_column: str
    amount_column: str | None = None
    debit_column: str | None = None
    credit_column: str | None = None
    payee_column: str | None = None
    external_id_column: str | None = None
    status_column: str | None = None
    pending_values: tuple[str, ...] = ("pending", "pendente")
    date_format: str = "%Y-%m-%d"
    decimal_style: DecimalStyle | Literal["auto"] = "point"
    delimiter: str = ","
    has_header: bool = True
    skip_lines: int = 0
    invert_sign: bool = False
    encoding: str = "auto"
    ignore_descriptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        texts = {"date_format": self.date_format, "delimiter": self.delimiter, "decimal_style": self.decimal_style,
                 "encoding": self.encoding}  # fmt: skip
        if isinstance(self.pending_values, (list, tuple)):
            texts |= {f"pending_values.{i}": v for i, v in enumerate(self.pending_values)}
        if isinstance(self.ignore_descriptions, (list, tuple)):
            texts |= {f"ignore_descriptions.{i}": v for i, v in enumerate(self.ignore_descriptions)}
        for name in self.__dataclass_fields__:
            if name.endswith("_column") and getattr(self, name) is not None:
                texts[name] = getattr(self, name)
        for name, value in texts.items():  # stored with the import: text without control characters
            check_text(value, name)
        errors: dict[str, str] = {}
        if (self.amount_column is None) == (self.debit_column is None and self.credit_column is None):
            errors["amount_column"] = "give amount_column, or debit_column and/or credit_column"
        if self.decimal_style not in ("point", "comma", "auto"):
            errors["decimal_style"] = "must be point (1,234.56), comma (1.234,56) or auto"
        if self.encoding.strip().lower() not in ENCODINGS:
            errors["encoding"] = f"must be one of {', '.join(sorted(ENCODINGS))}"
        if isinstance(self.ignore_descriptions, str) or not isinstance(self.ignore_descriptions, (list, tuple)):
            errors["ignore_descriptions"] = "must be a list of descriptions"
        else:
            object.__setattr__(self, "ignore_descriptions", tuple(self.ignore_descriptions))
        if len(self.delimiter) != 1 or self.delimiter in '\r\n"':
            errors["delimiter"] = "must be one character"
        if isinstance(self.pending_values, str) or not isinstance(self.pending_values, (list, tuple)):
            object.__setattr__(self, "pending_values", ())
        object.__setattr__(self, "pending_values", tuple(self.pending_values))
        if not self.pending_values or not all(isinstance(v, str) and v.strip() for v in self.pending_values):
            errors["pending_values"] = "must be a list of words such as pending"
        if self.date_format != "auto" and not any(d in self.date_format for d in _DATE_DIRECTIVES):
            errors["date_format"] = "must be a strftime pattern such as %d/%m/%Y, or auto"
        if isinstance(self.skip_lines, bool) or not isinstance(self.skip_lines, int) or not 0 <= self.skip_lines <= 100:
            errors["skip_lines"] = "must be between 0 and 100"
        if not self.has_header:
            for name in self._columns():
                if not name.isdigit():
                    errors[name] = "without a header, columns are 0-based indexes"
        if errors:
            raise ValidationError.from_fields(errors)

    def _columns(self) -> list[str]:
        cols = [self.date_column, self.description_column, self.amount_column, self.debit_column,
                self.credit_column, self.payee_column, self.external_id_column, self.status_column]  # fmt: skip
        return [c for c in cols if c is not None]


def parse_csv(text: str, mapping: CsvMapping, currency_code: Currency | str) -> ParsedStatement:
    """Parse a CSV statement. File-level problems raise; row problems are collected.

    Raises:
        ValidationError: the file is not CSV, lacks a mapped column, or has too many rows.
    """
    cur = currency(currency_code)
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = io.StringIO(text, newline="")
    for _ in range(mapping.skip_lines):
        lines.readline()
    reader = csv.reader(lines, delimiter=mapping.delimiter, strict=True)
    first_line = mapping.skip_lines + 1
    index: dict[str, int]
    try:
        if mapping.has_header:
            header = next(reader, None)
            if header is None:
                raise ValidationError.for_field("file", "the file is empty")
            index = {h.strip().casefold(): i for i, h in enumerate(header)}
            first_line += 1
        else:
            index = {c: int(c) for c in mapping._columns()}
        missing = [c for c in mapping._columns() if (c.casefold() if mapping.has_header else c) not in index]
        if mapping.has_header and missing:
            raise ValidationError.for_field("mapping", f"columns not in the header: {', '.join(missing)}")
        records: list[tuple[int, list[str]]] = []
        for offset, record in enumerate(reader):
            if len(records) >= MAX_ROWS:
                raise ValidationError.for_field("file", f"at most {MAX_ROWS} rows per import")
            if record and any(cell.strip() for cell in record):
                records.append((first_line + offset, record))
    except csv.Error as exc:
        raise ValidationError.for_field("file", f"not a readable CSV file: {exc}") from None
    mapping = _resolved(mapping, records, index)
    ignored = {d.strip().casefold() for d in mapping.ignore_descriptions}
    rows: list[StatementRow] = []
    errors: list[RowError] = []
    for line, record in records:
        try:
            if ignored and _cell(record, index, mapping.description_column, mapping).casefold() in ignored:
                continue
            rows.append(_row(record, line, index, mapping, cur))
        except DomainError as exc:
            if len(errors) < MAX_ERRORS:
                errors.append(RowError(line, exc.message))
    return ParsedStatement(tuple(rows), tuple(errors))


def _column_values(records: list[tuple[int, list[str]]], index: dict[str, int], column: str | None,
                   mapping: CsvMapping) -> list[str]:  # fmt: skip
    if column is None:
        return []
    position = index[column.casefold() if mapping.has_header else column]
    return [record[position].strip() for _, record in records if position < len(record)]


def _resolved(mapping: CsvMapping, records: list[tuple[int, list[str]]], index: dict[str, int]) -> CsvMapping:
    """``mapping`` with an ``auto`` date format and decimal style found from the file's values."""
    if mapping.date_format == "auto":
        dates = _column_values(records, index, mapping.date_column, mapping)
        found = detect_date_format(dates)
        if found is None:
            raise ValidationError.for_field(
                "date_format", "no known date format reads every date of the file: give date_format"
            )
        mapping = replace(mapping, date_format=found)
    if mapping.decimal_style == "auto":
        columns = (mapping.amount_column, mapping.debit_column, mapping.credit_column)
        amounts = [v for c in columns for v in _column_values(records, index, c, mapping)]
        mapping = replace(mapping, decimal_style=detect_decimal_style(amounts))
    return mapping


def _cell(record: list[str], index: dict[str, int], column: str | None, mapping: CsvMapping) -> str:
    if column is None:
        return ""
    position = index[column.casefold() if mapping.has_header else column]
    if position >= len(record):
        raise ValidationError.for_field(column, f"the row has no column {column!r}")
    return record[position].strip()


def _row(record: list[str], line: int, index: dict[str, int], mapping: CsvMapping, cur: Currency) -> StatementRow:
    raw_date = _cell(record, index, mapping.date_column, mapping)
    try:
        booked_on = datetime.strptime(raw_date, mapping.date_format).date()
    except ValueError:
        raise ValidationError.for_field(
            mapping.date_column, f"{raw_date!r} does not match date format {mapping.date_format}"
        ) from None
    if not date(1900, 1, 1) <= booked_on <= date(2999, 12, 31):
        raise ValidationError.for_field(mapping.date_column, f"{raw_date!r} is out of range")
    description = clean_text(_cell(record, index, mapping.description_column, mapping), "description", 500)
    if not description:
        raise ValidationError.for_field(mapping.description_column, "the description is empty")
    amount = _amount(record, index, mapping, cur)
    if mapping.invert_sign:
        amount = -amount
    external = _cell(record, index, mapping.external_id_column, mapping) or None
    payee = clean_text(_cell(record, index, mapping.payee_column, mapping), "payee", 200)
    status = _cell(record, index, mapping.status_column, mapping).strip().casefold()
    pending = bool(status) and status in {v.strip().casefold() for v in mapping.pending_values}
    return StatementRow(line, booked_on, description, amount, payee, external and external[:255], pending)


def _amount(record: list[str], index: dict[str, int], mapping: CsvMapping, cur: Currency) -> Money:
    if mapping.amount_column is not None:
        raw = _cell(record, index, mapping.amount_column, mapping)
        if not raw:
            raise ValidationError.for_field(mapping.amount_column, "the amount is empty")
        return Money.parse_statement(raw, cur, _style(mapping))
    debit = _cell(record, index, mapping.debit_column, mapping)
    credit = _cell(record, index, mapping.credit_column, mapping)
    if debit and credit:
        raise ValidationError.for_field("amount", "both debit and credit are filled")
    if not debit and not credit:
        raise ValidationError.for_field("amount", "neither debit nor credit is filled")
    if debit:
        return -abs(Money.parse_statement(debit, cur, _style(mapping)))
    return abs(Money.parse_statement(credit, cur, _style(mapping)))


def _style(mapping: CsvMapping) -> DecimalStyle:
    """The mapping's decimal style once resolved (``auto`` is resolved before any row)."""
    return "comma" if mapping.decimal_style == "comma" else "point"
