"""Traces with OpenTelemetry: one trace per write, from the HTTP request to the realtime fan-out.

Spans: the HTTP request (``RequestLogMiddleware``), the use case it calls (:func:`traced_use_cases`:
its name, command, tenant and outcome), each SQL statement (``valorize_adapters/postgres/tracing.py``),
the outbox relay of committed events and their realtime publish (:class:`TracedPublisher`), the
delivery of a task (the dispatchers), its run in the worker (``TaskController``) and the realtime
server's fan-out of an event to its subscribers (:func:`fan_out_span`).

A write's trace id is :func:`~valorize_entrypoints.logs.trace_id_of` its correlation id — the
request id, which the outbox's events and the tasks they cause already carry (event metadata, the
``X-Request-ID`` task header) — and the HTTP request's span id is :func:`anchor_span_id` of it
(the write's *anchor*, :func:`root_span`). A span point with no parent in its process (a
dispatcher's delivery, the realtime server's fan-out, a sweeper's relay) starts as a child of that
anchor: its parent link is real with nothing more stored. Where a W3C ``traceparent`` can travel
(the local dispatcher's HTTP delivery to the worker), it does, and the worker's run is a child of
the delivery.

``VALORIZE_TRACING``: ``off`` (default: no provider, nothing recorded, a ``None`` check per
span point and no use-case wrapper at all), ``console`` (spans printed), ``otlp`` (OTLP over HTTP
to ``OTEL_EXPORTER_OTLP_ENDPOINT``; Cloud Trace accepts OTLP; the ``tracing`` extra), ``memory``
(kept in :func:`finished_spans`, for tests), ``file:PATH`` (one JSON object per span appended to
``PATH``; several processes may share it).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from valorize_adapters.postgres import tracing as sql_tracing
from valorize_core.model.events import DomainEvent
from valorize_core.ports.event_publisher import EventPublisher
from valorize_entrypoints.logs import trace_id_of

__all__ = ["EXPORTERS", "NO_SPAN", "SpanKind", "TracedPublisher", "anchor_span_id", "configure_tracing", "enabled",
           "fan_out_span", "finished_spans", "inject_context", "root_span", "span", "traced_use_cases"]  # fmt: skip

EXPORTERS = ("off", "console", "otlp", "memory", "file:PATH")

_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None
_memory: InMemorySpanExporter | None = None


def configure_tracing(exporter: str, service: str = "valorize") -> None:
    """Trace to ``exporter`` (one of :data:`EXPORTERS`) from now on; ``off`` stops."""
    global _tracer, _provider, _memory
    check_exporter(exporter)
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = _memory = None
    sql_tracing.tracer = None
    if exporter == "off":
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service}), id_generator=_AnchoredIds())
    if exporter == "memory":
        _memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_memory))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(exporter)))
    _provider, _tracer = provider, provider.get_tracer("valorize")
    sql_tracing.tracer = _tracer


def check_exporter(exporter: str) -> None:
    """Raise ``ValueError`` unless ``exporter`` names one of :data:`EXPORTERS`."""
    if exporter not in EXPORTERS[:-1] and not (exporter.startswith("file:") and len(exporter) > len("file:")):
        raise ValueError(f"VALORIZE_TRACING must be one of {', '.join(EXPORTERS)}")


class JsonLinesExporter(SpanExporter):
    """Appends each span as one line of OpenTelemetry's JSON (``ReadableSpan.to_json``) to a file.

    A batch is one ``write`` on a descriptor opened with ``O_APPEND``, so the processes of every
    role may share one file without interleaving their lines."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(json.loads(s.to_json(indent=None)), separators=(",", ":")) + "\n" for s in spans)
        os.write(self._fd, lines.encode())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _exporter(kind: str) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    if kind.startswith("file:"):
        return JsonLinesExporter(kind.removeprefix("file:"))
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


def anchor_span_id(correlation_id: str) -> int:
    """The span id of the write started by ``correlation_id``: its HTTP request's (the anchor)."""
    return int.from_bytes(hashlib.blake2b(correlation_id.encode(), digest_size=8).digest(), "big") or 1


_anchor: ContextVar[tuple[int, int] | None] = ContextVar("valorize_trace_anchor", default=None)


class _AnchoredIds(RandomIdGenerator):
    """Random ids, except for the root span of a write (:func:`root_span`), whose trace and span
    ids are its correlation id's: what every other process derives from the id alone."""

    def generate_span_id(self) -> int:
        anchor = _anchor.get()
        return anchor[1] if anchor is not None else super().generate_span_id()

    def generate_trace_id(self) -> int:
        anchor = _anchor.get()
        return anchor[0] if anchor is not None else super().generate_trace_id()


def _parent(correlation_id: str | None, carrier: Mapping[str, str] | None = None) -> Any:
    """The parent of a span starting here: the current span; else the ``traceparent`` in
    ``carrier`` (a delivery's headers); else the write's anchor in another process."""
    if trace.get_current_span().get_span_context().is_valid:
        return None
    if carrier is not None and "traceparent" in carrier:
        propagated = _PROPAGATOR.extract(carrier)
        if trace.get_current_span(propagated).get_span_context().is_valid:
            return propagated
    if correlation_id is None:
        return None
    trace_id = int(trace_id_of(correlation_id), 16)
    remote = SpanContext(trace_id, anchor_span_id(correlation_id), is_remote=True,
                         trace_flags=TraceFlags(TraceFlags.SAMPLED))  # fmt: skip
    return trace.set_span_in_context(NonRecordingSpan(remote))


_PROPAGATOR = TraceContextTextMapPropagator()


def inject_context(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with the current span's W3C ``traceparent`` added (unchanged when off)."""
    if _tracer is not None:
        _PROPAGATOR.inject(headers)
    return headers


@contextmanager
def span(
    name: str,
    correlation_id: str | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    carrier: Mapping[str, str] | None = None,
    **attributes: Any,
) -> Iterator[Span | None]:
    """A span around the block (``None`` when tracing is off), in the write's trace: a child of
    the current span, else of ``carrier``'s ``traceparent``, else of the write's anchor."""
    if _tracer is None:
        yield None
        return
    values = {k: v for k, v in attributes.items() if v is not None}
    context = _parent(correlation_id, carrier)
    with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=values) as s:
        yield s


@contextmanager
def root_span(
    name: str, correlation_id: str, *, kind: SpanKind = SpanKind.SERVER, **attributes: Any
) -> Iterator[Span | None]:
    """The span that starts a write (the HTTP request): a root whose trace id and span id are
    ``correlation_id``'s (:func:`anchor_span_id`), so the spans other processes start for the
    same write are its children."""
    if _tracer is None:
        yield None
        return
    values = {k: v for k, v in attributes.items() if v is not None}
    token = _anchor.set((int(trace_id_of(correlation_id), 16), anchor_span_id(correlation_id)))
    try:
        started = _tracer.start_span(name, context=Context(), kind=kind, attributes=values)
    finally:
        _anchor.reset(token)
    with trace.use_span(started, end_on_exit=True) as s:
        yield s


def fan_out_span(event: str, channel: str, data: str) -> AbstractContextManager[Span | None]:
    """The realtime server's fan-out of one backplane message, in the trace of the write whose
    event it carries (the event record's ``correlation_id``); no span for other messages."""
    if _tracer is None or not data.startswith("{") or '"correlation_id"' not in data:
        return NO_SPAN
    try:
        correlation_id = json.loads(data).get("correlation_id")
    except ValueError:
        return NO_SPAN
    if not isinstance(correlation_id, str):
        return NO_SPAN
    return span(f"realtime fan-out {event}", correlation_id, kind=SpanKind.CONSUMER, channel=channel)


class _TracedUseCase:
    """A use case whose calls are spans: its name, the command's type, the tenant, the outcome."""

    def __init__(self, name: str, inner: Any) -> None:
        self._name = name
        self._inner = inner

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)

    async def __call__(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        tenant = getattr(command, "tenant_id", None)
        attributes: dict[str, Any] = {"valorize.use_case": self._name, "valorize.command": type(command).__name__,
                                      "valorize.tenant_id": None if tenant is None else str(tenant)}  # fmt: skip
        with span(f"use case {self._name}", **attributes) as s:
            try:
                result = await self._inner(command, *args, **kwargs)
            except BaseException as exc:
                if s is not None:
                    s.set_attribute("valorize.outcome", type(exc).__name__)
                raise
            if s is not None:
                s.set_attribute("valorize.outcome", "ok")
            return result


App = TypeVar("App")


def traced_use_cases(app: App) -> App:
    """``app`` (a :class:`~valorize_core.app.Valorize`) with each use case a span when tracing is
    on; unchanged when off, so an untraced process pays nothing per call. The core imports no
    tracing: the wrapper is put on here, at the composition root."""
    if _tracer is None:
        return app
    for name, use_case in list(vars(app).items()):
        if callable(use_case) and not isinstance(use_case, type) and name != "ports":
            setattr(app, name, _TracedUseCase(name, use_case))
    return app


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
