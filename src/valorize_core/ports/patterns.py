"""Port: user-supplied patterns, run in time linear in the text they search."""

from __future__ import annotations

from typing import Protocol

__all__ = ["CompiledPattern", "PatternEngine"]


class CompiledPattern(Protocol):
    """A pattern ready to search text."""

    @property
    def pattern(self) -> str:
        """The pattern as written."""
        ...

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text``, in time linear in its length."""
        ...


class PatternEngine(Protocol):
    """Compiles user-supplied regular expressions for an engine that never backtracks.

    ``compile`` raises :class:`~valorize_core.model.errors.ValidationError` (no field; the caller
    places it) for a pattern that is invalid or uses syntax the engine does not run in linear
    time, such as backreferences or lookaround, saying which.
    """

    def compile(self, pattern: str, *, ignore_case: bool = False) -> CompiledPattern:
        """The compiled pattern, or :class:`~valorize_core.model.errors.ValidationError`."""
        ...
