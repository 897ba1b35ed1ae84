"""Statement formats that need a library (OFX)."""

from valorize_adapters.statements.ofx import OfxStatementParser

__all__ = ["OfxStatementParser"]
