"""Port: turning an uploaded statement file into rows and per-row errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from valorize_core.model.money import Currency
from valorize_core.model.statements.rows import ParsedStatement

__all__ = ["StatementParser"]


class StatementParser(Protocol):
    """One file format (CSV in the core; OFX through a library in the adapters)."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise a validation error for options this format cannot use."""
        ...

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        """Rows and per-row errors; raises a validation error when the file is unreadable."""
        ...
