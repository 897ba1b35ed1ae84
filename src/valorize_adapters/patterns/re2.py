"""The ``PatternEngine`` port on RE2 (``google-re2``): automata, no backtracking.

RE2 runs any pattern it accepts in time linear in the text, so ``(a|a)+$`` over 10,000
characters costs microseconds where Python's ``re`` would never finish. The price is the
syntax it refuses: backreferences, lookaround, atomic groups and conditionals, which this
engine reports by name.
"""

from __future__ import annotations

import re
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from valorize_core.model.errors import ValidationError
from valorize_core.ports.patterns import CompiledPattern

__all__ = ["MAX_PROGRAM_SIZE", "Re2Engine", "Re2Pattern"]

# RE2 is linear in the text; its constant is the automaton's. A pattern of 25 characters such as
# (\pL|\pN){1,90}\pZ{1,90}x compiles to 122,583 instructions, overflows the DFA's memory and runs
# on the NFA: 1.3-2 ms per 500 characters, for one condition of one rule of every write. Larger
# programs are refused; realistic patterns stay far below ([\pL\pN]{2,30}: 40,322; \w{1,200}: 1,803).
MAX_PROGRAM_SIZE = 50_000

# RE2's own words for syntax it does not take, in the order we try them.
_BACKREFERENCE = re.compile(r"invalid escape sequence: \\[1-9]|invalid escape sequence: \\k|invalid named capture")
_PERL_OPERATOR = re.compile(r"invalid perl operator: (\(\?<?[=!]?\S?)")
_UNSUPPORTED = {
    "(?=": "lookahead (?=...)",
    "(?!": "negative lookahead (?!...)",
    "(?<=": "lookbehind (?<=...)",
    "(?<!": "negative lookbehind (?<!...)",
}
_NOTE = (
    "patterns run on RE2, which matches in linear time and has no backtracking features"
    " (backreferences, lookaround, atomic groups, conditionals)"
)


class Re2Pattern:
    """A compiled RE2 pattern. Immutable: copies are itself; pickling compiles it again."""

    __slots__ = ("_ignore_case", "_max_mem", "_regex", "pattern")

    def __init__(self, pattern: str, *, ignore_case: bool, max_mem: int) -> None:
        options = re2.Options()
        options.case_sensitive = not ignore_case
        options.log_errors = False
        options.max_mem = max_mem
        try:
            self._regex: Any = re2.compile(pattern, options)
        except re2.error as exc:
            raise ValidationError(_explain(pattern, exc)) from None
        except UnicodeEncodeError:  # RE2 works on UTF-8: a lone surrogate has no encoding
            raise ValidationError("invalid regular expression: it is not valid Unicode text") from None
        if self._regex.programsize > MAX_PROGRAM_SIZE:
            raise ValidationError(
                f"the pattern is too complex: it compiles to {self._regex.programsize} instructions, at most"
                f" {MAX_PROGRAM_SIZE} (counted repetitions of Unicode classes grow fastest)"
            )
        self.pattern = pattern
        self._ignore_case = ignore_case
        self._max_mem = max_mem

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text`` (a lone surrogate in it, which
        UTF-8 cannot encode, is searched as "?")."""
        try:
            return self._regex.search(text) is not None
        except UnicodeEncodeError:
            return self._regex.search(text.encode("utf-8", "replace").decode("utf-8")) is not None

    def __copy__(self) -> Re2Pattern:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Re2Pattern:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.pattern, self._ignore_case, self._max_mem))

    def __repr__(self) -> str:
        return f"Re2Pattern({self.pattern!r})"


def _rebuild(pattern: str, ignore_case: bool, max_mem: int) -> Re2Pattern:
    return Re2Pattern(pattern, ignore_case=ignore_case, max_mem=max_mem)


class Re2Engine:
    """Compiles patterns with RE2; ``max_mem`` bounds the automaton (a larger one is refused)."""

    def __init__(self, max_mem: int = 8 << 20) -> None:
        self._max_mem = max_mem

    def compile(self, pattern: str, *, ignore_case: bool = False) -> CompiledPattern:
        """The compiled pattern, or :class:`ValidationError` naming what RE2 does not take."""
        return Re2Pattern(pattern, ignore_case=ignore_case, max_mem=self._max_mem)


def _explain(pattern: str, exc: Exception) -> str:
    detail = exc.args[0] if exc.args else str(exc)
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    detail = str(detail)
    if _BACKREFERENCE.search(detail) or "(?P=" in pattern:
        return f"backreferences (\\1, \\k<name>, (?P=name)) are not supported: {_NOTE}"
    operator = _PERL_OPERATOR.search(detail)
    if operator:
        for prefix, name in sorted(_UNSUPPORTED.items(), key=lambda kv: -len(kv[0])):
            if operator.group(1).startswith(prefix):
                return f"{name} is not supported: {_NOTE}"
        return (
            f"the group syntax {operator.group(1)} is not supported (lookaround, atomic groups, conditionals): {_NOTE}"
        )
    if "pattern too large" in detail:
        return "the pattern is too large (it would need too much memory to run)"
    return f"invalid regular expression: {detail}"
