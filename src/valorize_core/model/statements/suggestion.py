"""A column mapping suggested from the first lines of a CSV file.

What it finds: the encoding, the delimiter (the candidate that splits the sample into the same
number of columns, more than one, on the most lines), whether the first line is a header (it
holds no date where the rows do), the date column and its format, the amount column (or debit
and credit columns) and its decimal style, the description column, and, when the header is one
a preset knows, that preset. Header names in Portuguese, English, German, French, Spanish and
Dutch help choose among columns of one kind. The sample is bounded (:data:`SAMPLE_LINES`), so
the work is too.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.statements.presets import PRESETS
from valorize_core.model.statements.sniffing import decode_statement, detect_date_format, detect_decimal_style

__all__ = ["SAMPLE_BYTES", "SAMPLE_LINES", "MappingSuggestion", "suggest_mapping"]

SAMPLE_BYTES = 65_536
SAMPLE_LINES = 50
_DELIMITERS = (";", ",", "\t", "|")
_NAMES = {
    "amount": ("valor", "amount", "betrag", "montant", "importe", "bedrag", "value", "quantia"),
    "debit": ("débito", "debito", "debit", "soll", "saída", "saida", "cargo", "withdrawal"),
    "credit": ("crédito", "credito", "credit", "haben", "entrada", "abono", "deposit"),
    "description": ("descrição", "descricao", "lançamento", "lancamento", "histórico", "historico", "description",
                    "title", "memo", "verwendungszweck", "buchungstext", "libellé", "libelle", "concepto",
                    "omschrijving", "details", "detalhes"),
    "external_id": ("identificador", "id", "fitid", "transaction id", "referência", "referencia", "reference"),
    "balance": ("saldo", "balance", "solde", "kontostand"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MappingSuggestion:
    """A mapping to send back with the file (``mapping``), the preset it matches if any, the
    columns seen (the header, or ``0``, ``1``, … without one) and the sample's first rows."""

    mapping: dict[str, Any]
    preset: str | None
    columns: tuple[str, ...]
    sample: tuple[tuple[str, ...], ...]


def _records(text: str, delimiter: str) -> list[list[str]]:
    lines = text.splitlines()[:SAMPLE_LINES]
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return []
    return [r for r in rows if any(c.strip() for c in r)]


def _delimiter(text: str) -> tuple[str, list[list[str]]]:
    """The delimiter whose most common column count (above one) covers the most lines."""
    best: tuple[int, str, list[list[str]]] = (0, ",", [])
    for delimiter in _DELIMITERS:
        records = _records(text, delimiter)
        counts: dict[int, int] = {}
        for r in records:
            if len(r) > 1:
                counts[len(r)] = counts.get(len(r), 0) + 1
        score = max(counts.values(), default=0)
        if score > best[0]:
            best = (score, delimiter, records)
    if best[0] == 0:
        raise ValidationError.for_field("file", "no delimiter splits the file into columns")
    return best[1], best[2]


def _is_amount(value: str) -> bool:
    value = value.strip()
    if not value or not any(ch.isdigit() for ch in value):
        return False
    for code in ("BRL", "EUR", "USD", "GBP"):
        for style in ("comma", "point"):
            try:
                Money.parse_statement(value, code, style)
            except ValidationError:
                continue
            return True
    return False


def _named(header: Sequence[str], kind: str, among: Sequence[int]) -> int | None:
    names = _NAMES[kind]
    for i in among:
        name = header[i].strip().casefold()
        if name in names or any(name.startswith(n) for n in names if len(n) > 3):
            return i
    return None


def suggest_mapping(content: bytes) -> MappingSuggestion:
    """A mapping for a CSV file, from its first :data:`SAMPLE_LINES` lines.

    Raises:
        ValidationError: the sample has no columns, no date column or no amount column.
    """
    head = content[:SAMPLE_BYTES]
    cut = len(content) > SAMPLE_BYTES
    encoding = _encoding_name(head, cut)
    if cut:  # the sample's last line may be cut, maybe inside a character
        head = head[: head.rfind(b"\n") + 1] if b"\n" in head else head
    text = decode_statement(head, encoding)
    delimiter, records = _delimiter(text)
    width = max(len(r) for r in records)
    first, body = records[0], records[1:] or records

    def column(rows: Sequence[Sequence[str]], i: int) -> list[str]:
        return [r[i] for r in rows if i < len(r) and r[i].strip()]

    dates = [i for i in range(width) if column(body, i) and detect_date_format(column(body, i))]
    if not dates:
        raise ValidationError.for_field("file", "no column of the sample holds dates")
    has_header = not any(detect_date_format([first[i]]) for i in dates if i < len(first))
    rows = body if has_header else records
    header = [c.strip() for c in first] + [""] * (width - len(first)) if has_header else [str(i) for i in range(width)]
    amounts = [i for i in range(width) if i not in dates and column(rows, i) and all(map(_is_amount, column(rows, i)))]
    balance = _named(header, "balance", amounts) if has_header else None
    amounts = [i for i in amounts if i != balance]
    texts = [i for i in range(width) if i not in dates and i not in amounts and i != balance]
    mapping: dict[str, Any] = {"delimiter": delimiter, "has_header": has_header, "encoding": encoding}
    date_col = dates[0]
    mapping["date_column"] = header[date_col]
    mapping["date_format"] = detect_date_format(column(rows, date_col))
    debit = _named(header, "debit", amounts) if has_header else None
    credit = _named(header, "credit", amounts) if has_header else None
    amount = _named(header, "amount", amounts) if has_header else None
    if amount is None and debit is not None and credit is not None and debit != credit:
        mapping["debit_column"], mapping["credit_column"] = header[debit], header[credit]
        styled = column(rows, debit) + column(rows, credit)
    else:
        if amount is None and not amounts:
            raise ValidationError.for_field("file", "no column of the sample holds amounts")
        amount = amount if amount is not None else amounts[-1] if len(amounts) == 1 else amounts[0]
        mapping["amount_column"] = header[amount]
        styled = column(rows, amount)
    mapping["decimal_style"] = detect_decimal_style(styled)
    described = _named(header, "description", texts) if has_header else None
    if described is None:
        if not texts:
            raise ValidationError.for_field("file", "no column of the sample holds descriptions")
        described = max(texts, key=lambda i: sum(len(v) for v in column(rows, i)))
    mapping["description_column"] = header[described]
    external = _named(header, "external_id", [i for i in texts if i != described]) if has_header else None
    if external is not None:
        mapping["external_id_column"] = header[external]
    preset = _preset(header) if has_header else None
    sample = tuple(tuple(r) for r in rows[:5])
    return MappingSuggestion(mapping, preset, tuple(header), sample)


def _encoding_name(head: bytes, cut: bool) -> str:
    """The name :func:`decode_statement` takes for what ``auto`` found in ``head`` (``cut``:
    the sample ends inside the file, maybe inside a UTF-8 character)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not cut or exc.start < len(head) - 3:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return "latin-1"
            return "windows-1252"
    return "utf-8"


def _preset(header: Sequence[str]) -> str | None:
    names = tuple(h.casefold() for h in header)
    return next((p.name for p in PRESETS.values() if p.header and p.header == names), None)
