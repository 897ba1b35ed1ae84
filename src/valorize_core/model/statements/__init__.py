"""Statement import: parsing bank files into rows, and the record of an import."""

from valorize_core.model.statements.csv import CsvMapping, parse_csv
from valorize_core.model.statements.imports import ImportStatus, RowError, StatementImport
from valorize_core.model.statements.rows import ParsedStatement, StatementRow

__all__ = [
    "CsvMapping",
    "ImportStatus",
    "ParsedStatement",
    "RowError",
    "StatementImport",
    "StatementRow",
    "parse_csv",
]
