"""The CSV format as a :class:`~valorize_core.ports.statement_parser.StatementParser`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Currency
from valorize_core.model.statements.csv import CsvMapping, parse_csv
from valorize_core.model.statements.rows import ParsedStatement

__all__ = ["CsvStatementParser"]


class CsvStatementParser:
    """CSV with a column mapping (``options["mapping"]``)."""

    @staticmethod
    def _mapping(options: Mapping[str, Any]) -> CsvMapping:
        raw = options.get("mapping")
        if not isinstance(raw, Mapping):
            raise ValidationError.for_field("mapping", "a CSV import needs a column mapping")
        try:
            return CsvMapping(**raw)
        except TypeError as exc:
            raise ValidationError.for_field("mapping", f"unknown or missing field: {exc}") from None

    def check_options(self, options: Mapping[str, Any]) -> None:
        self._mapping(options)

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError.for_field("file", "the file is not UTF-8 text") from None
        return parse_csv(text, self._mapping(options), currency)
