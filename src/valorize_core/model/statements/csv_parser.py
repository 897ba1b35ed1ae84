"""The CSV format as a :class:`~valorize_core.ports.statement_parser.StatementParser`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from valorize_core.model.money import Currency
from valorize_core.model.statements.csv import CsvMapping, parse_csv
from valorize_core.model.statements.presets import mapping_from_options
from valorize_core.model.statements.rows import ParsedStatement
from valorize_core.model.statements.sniffing import decode_statement

__all__ = ["CsvStatementParser"]


class CsvStatementParser:
    """CSV with a column mapping or a preset (``options["mapping"]``), in the mapping's encoding."""

    @staticmethod
    def _mapping(options: Mapping[str, Any]) -> CsvMapping:
        return mapping_from_options(options.get("mapping"))

    def check_options(self, options: Mapping[str, Any]) -> None:
        self._mapping(options)

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        mapping = self._mapping(options)
        return parse_csv(decode_statement(content, mapping.encoding), mapping, currency)
