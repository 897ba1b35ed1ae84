"""Traces with OpenTelemetry: one trace per write, from the HTTP request to the realtime publish.

Spans: the HTTP request (``RequestLogMiddleware``), each SQL statement
(``valorize_adapters/postgres/tracing.py``), the realtime publish of committed events
(:class:`TracedPublisher`), the delivery of a task (the dispatchers) and its run in the worker
(``TaskController``). A write's trace id is :func:`~valorize_entrypoints.logs.trace_id_of` its
correlation id — the request id, which the outbox's events and the tasks they cause already
carry (event metadata, the ``X-Request-ID`` task header) — so the request, the relay, the
dispatcher, the worker and the realtime publish all join one trace, and the log lines carry the
same id. A span with no parent in this process starts under that trace.

``VALORIZE_TRACING``: ``off`` (default: no provider, nothing recorded, a ``None`` check per
span point), ``console`` (spans printed), ``otlp`` (OTLP over HTTP to
``OTEL_EXPORTER_OTLP_ENDPOINT``; Cloud Trace accepts OTLP; the ``tracing`` extra), ``memory``
(kept in :func:`finished_spans`, for tests).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags

from valorize_adapters.postgres import tracing as sql_tracing
from valorize_core.model.events import DomainEvent
from valorize_core.ports.event_publisher import EventPublisher
from valorize_entrypoints.logs import trace_id_of

__all__ = ["EXPORTERS", "NO_SPAN", "SpanKind", "TracedPublisher", "configure_tracing", "enabled", "finished_spans",
           "span"]  # fmt: skip

EXPORTERS = ("off", "console", "otlp", "memory")

_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None
_memory: InMemorySpanExporter | None = None


def configure_tracing(exporter: str, service: str = "valorize") -> None:
    """Trace to ``exporter`` (one of :data:`EXPORTERS`) from now on; ``off`` stops."""
    global _tracer, _provider, _memory
    if exporter not in EXPORTERS:
        raise ValueError(f"VALORIZE_TRACING must be one of {', '.join(EXPORTERS)}")
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = _memory = None
    sql_tracing.tracer = None
    if exporter == "off":
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter == "memory":
        _memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_memory))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(exporter)))
    _provider, _tracer = provider, provider.get_tracer("valorize")
    sql_tracing.tracer = _tracer


def _exporter(kind: str) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    try:  # by name: the tracing extra is not in dev (its protobuf >= 5 conflicts with the Cloud Tasks emulator)
        otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        raise ValueError("VALORIZE_TRACING=otlp needs the tracing extra: pip install 'valorize[tracing]'") from None
    return cast("SpanExporter", otlp.OTLPSpanExporter())  # endpoint, headers: OTEL_EXPORTER_OTLP_* variables


NO_SPAN: AbstractContextManager[None] = nullcontext()  # reusable: what a span point enters when off


def enabled() -> bool:
    """Whether spans are recorded (hot paths skip building a span's arguments when not)."""
    return _tracer is not None


def finished_spans() -> Sequence[ReadableSpan]:
    """The spans ended so far (``memory`` only)."""
    return _memory.get_finished_spans() if _memory is not None else ()


def _parent(correlation_id: str | None) -> Any:
    """A context whose remote parent is the write's trace (when no span is current here)."""
    if correlation_id is None or trace.get_current_span().get_span_context().is_valid:
        return None
    trace_id = int(trace_id_of(correlation_id), 16)
    span_id = int.from_bytes(hashlib.blake2b(correlation_id.encode(), digest_size=8).digest(), "big") or 1
    remote = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(remote))


@contextmanager
def span(
    name: str, correlation_id: str | None = None, *, kind: SpanKind = SpanKind.INTERNAL, **attributes: Any
) -> Iterator[Span | None]:
    """A span around the block (``None`` when tracing is off), in the write's trace."""
    if _tracer is None:
        yield None
        return
    values = {k: v for k, v in attributes.items() if v is not None}
    with _tracer.start_as_current_span(name, context=_parent(correlation_id), kind=kind, attributes=values) as s:
        yield s


class TracedPublisher:
    """An :class:`EventPublisher` whose publishes are spans (the realtime broadcast)."""

    def __init__(self, inner: EventPublisher, name: str) -> None:
        self._inner = inner
        self._name = name

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if _tracer is None or not events:
            await self._inner.publish(events)
            return
        with span(self._name, events[0].correlation_id, events=len(events), event=events[0].name):
            await self._inner.publish(events)
