"""Pattern engines: RE2 (the ``re2`` extra), linear in the text searched."""

from __future__ import annotations

from valorize_core.model.patterns import NO_PATTERN_ENGINE
from valorize_core.ports.patterns import PatternEngine

__all__ = ["default_pattern_engine"]


def default_pattern_engine() -> PatternEngine:
    """RE2 when ``google-re2`` is installed, else the core's engine that refuses every pattern
    (never Python's backtracking ``re``)."""
    try:
        from valorize_adapters.patterns.re2 import Re2Engine
    except ImportError:
        return NO_PATTERN_ENGINE
    return Re2Engine()
