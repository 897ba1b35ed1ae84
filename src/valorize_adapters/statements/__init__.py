"""Statement formats that need a library (OFX, QIF, MT940) or a hardened XML parser (CAMT.053)."""

from valorize_adapters.statements.camt import CamtStatementParser
from valorize_adapters.statements.mt940 import Mt940StatementParser
from valorize_adapters.statements.ofx import OfxStatementParser
from valorize_adapters.statements.qif import QifStatementParser

__all__ = ["CamtStatementParser", "Mt940StatementParser", "OfxStatementParser", "QifStatementParser"]
