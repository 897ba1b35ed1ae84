"""Pattern engines the core itself provides: none that runs a user's pattern.

The core never runs a user's regular expression on Python's backtracking ``re``: one pattern
such as ``(a|a)+$`` would hold the event loop for minutes. Regex conditions need a
:class:`~valorize_core.ports.patterns.PatternEngine` (``valorize_adapters.patterns.Re2Engine``,
the ``re2`` extra). Without one, :class:`NoPatternEngine` refuses them with a clear message,
and :class:`StoredPatterns` lets stored rules load even when their pattern cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from valorize_core.model.errors import ValidationError

if TYPE_CHECKING:  # the pattern-engine port types the model; nothing of ports runs here
    from valorize_core.ports.patterns import CompiledPattern, PatternEngine

__all__ = ["NO_PATTERN_ENGINE", "NoPatternEngine", "RefusedPattern", "StoredPatterns"]


class NoPatternEngine:
    """The default where no engine is configured: every pattern is refused, saying why."""

    def compile(self, pattern: str, *, ignore_case: bool = False) -> CompiledPattern:
        """Always :class:`ValidationError`."""
        raise ValidationError(
            "regular expressions need a linear-time pattern engine and none is configured"
            " (install valorize[re2] or pass a PatternEngine)"
        )


NO_PATTERN_ENGINE = NoPatternEngine()


@dataclass(frozen=True, slots=True)
class RefusedPattern:
    """A stored pattern the engine refuses (written before patterns ran on RE2, or loaded
    without an engine): kept so its rule still loads, shows and can be edited, never run."""

    pattern: str
    reason: str

    def search(self, text: str) -> bool:
        """Never called by the rules (a rule holding one is not run); ``False``."""
        return False


class StoredPatterns:
    """``engine`` for patterns read back from storage: what it refuses becomes a
    :class:`RefusedPattern` instead of an error, so one old rule cannot break loading."""

    def __init__(self, engine: PatternEngine) -> None:
        self._engine = engine

    def compile(self, pattern: str, *, ignore_case: bool = False) -> CompiledPattern:
        """The engine's compiled pattern, or a :class:`RefusedPattern` saying why not."""
        try:
            return self._engine.compile(pattern, ignore_case=ignore_case)
        except ValidationError as exc:
            return RefusedPattern(pattern, exc.message)
