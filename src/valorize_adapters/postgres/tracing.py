"""A span per SQL statement, when the process traces (the entrypoints set :data:`tracer`).

Off, it costs one attribute read per statement. The tracer is an OpenTelemetry ``Tracer``;
this module only calls it, so the adapters need no tracing package of their own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

__all__ = ["statement_span", "tracer"]

tracer: Tracer | None = None  # set by valorize_entrypoints.tracing.configure_tracing

_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b")


def statement_span(query: Any) -> Span | None:
    """A started span for ``query`` (the caller ends it), or ``None`` when tracing is off."""
    if tracer is None:
        return None
    text = query if isinstance(query, str) else repr(query)
    verb = text.lstrip().split(None, 1)[0].upper() if text.strip() else "SQL"
    if verb == "WITH":  # named by what it writes (a data-modifying WITH carries an INSERT), else a read
        written = _WRITES.search(text[:1000].upper())
        verb = written.group(1) if written else "SELECT"
    return tracer.start_span(f"SQL {verb}", attributes={"db.system": "postgresql", "db.statement": text[:1000]})
