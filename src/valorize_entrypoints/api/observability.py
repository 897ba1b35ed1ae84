"""Request ids, Prometheus metrics and one structured log line per request, in one middleware.

One wrapper around the app instead of three (request id, metrics, log) keeps the fixed cost of
a request low: a cached read costs well under a millisecond, and each extra ASGI layer with its
own ``send`` wrapper and label lookups was a visible share of it (perf/README.md).
"""

from __future__ import annotations

import logging
import os
import time

from prometheus_client import Counter, Gauge, Histogram

from valorize_core.use_cases.correlation import correlated
from valorize_entrypoints.api.asgi import ASGIApp, Message, Receive, Scope, Send
from valorize_entrypoints.api.errors import status_of
from valorize_entrypoints.logs import SAFE_REQUEST_ID, incoming_trace_id, trace_id_of
from valorize_entrypoints.tracing import NO_SPAN, SpanKind, root_span
from valorize_entrypoints.tracing import enabled as tracing_enabled

__all__ = ["HttpMetrics", "RequestLogMiddleware", "request_id_of"]

log = logging.getLogger("valorize.access")
_APP = "valorize"


class HttpMetrics:
    """Request counters and latency histograms by method, route template and status code.

    The route template (``/api/transactions/{transaction_id:uuid}``), never the raw path, so ids
    do not explode the label set. Labelled children are looked up once per label set and kept.
    """

    def __init__(self, prefix: str = "valorize") -> None:
        labels = ("method", "path", "status_code", "app_name")
        self.requests = Counter(f"{prefix}_requests", "HTTP requests", labels)
        self.errors = Counter(f"{prefix}_requests_error", "HTTP requests answered with a 5xx", labels)
        self.duration = Histogram(f"{prefix}_request_duration_seconds", "HTTP request duration", labels)
        self.in_progress = Gauge(f"{prefix}_requests_in_progress", "HTTP requests being served",
                                 ("method", "path", "app_name"), multiprocess_mode="livesum")  # fmt: skip
        self._done: dict[tuple[str, str, int], tuple[Counter, Histogram, Counter | None]] = {}
        self._running: dict[tuple[str, str], Gauge] = {}

    def started(self, method: str, path: str) -> Gauge:
        gauge = self._running.get((method, path))
        if gauge is None:
            gauge = self._running[(method, path)] = self.in_progress.labels(method, path, _APP)
        gauge.inc()
        return gauge

    def finished(self, method: str, path: str, status: int, seconds: float) -> None:
        children = self._done.get((method, path, status))
        if children is None:
            values = (method, path, str(status), _APP)
            children = self._done[(method, path, status)] = (
                self.requests.labels(*values),
                self.duration.labels(*values),
                self.errors.labels(*values) if status >= 500 else None,
            )
        count, duration, errors = children
        count.inc()
        duration.observe(seconds)
        if errors is not None:
            errors.inc()


METRICS = HttpMetrics()  # one per process: Prometheus' registry is process-wide


def request_id_of(headers: dict[bytes, bytes]) -> str:
    """The caller's ``X-Request-ID`` when it is safe to log; else the trace id the caller sent
    (``traceparent``, ``X-Cloud-Trace-Context``), so the request's lines join the caller's trace;
    else a new one (32 hex digits: a trace id too, see :func:`~valorize_entrypoints.logs.trace_id_of`)."""
    given = headers.get(b"x-request-id")
    if given is not None and SAFE_REQUEST_ID.match(text := given.decode("latin-1")):
        return text
    parent, cloud = headers.get(b"traceparent"), headers.get(b"x-cloud-trace-context")
    if parent is not None or cloud is not None:
        traced = incoming_trace_id((parent or b"").decode("latin-1"), (cloud or b"").decode("latin-1"))
        if traced:
            return traced
    # 128 random bits in hex, as uuid4().hex without building a UUID (a quarter of the time).
    return os.urandom(16).hex()


class RequestLogMiddleware:
    """Accepts or makes an ``X-Request-ID``, returns it, counts and times the request in
    :data:`METRICS` (except ``/metrics`` itself) and logs it when it ends."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics = METRICS) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(dict(scope["headers"]))
        scope.setdefault("state", {})["request_id"] = request_id
        method, route = scope["method"], scope.get("path_template", "unmatched")
        measured = route != "/metrics"
        running = self.metrics.started(method, route) if measured else None
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            traced_request = (root_span(f"{method} {route}", request_id, kind=SpanKind.SERVER, **{"http.route": route})
                              if tracing_enabled() else NO_SPAN)  # fmt: skip
            with correlated(request_id), traced_request as traced:  # events recorded by this request carry its id
                await self.app(scope, receive, send_with_id)
                if traced is not None:
                    traced.set_attribute("http.response.status_code", status)
        except Exception as exc:  # answered by the exception handlers outside this middleware
            status = status_of(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            if running is not None:
                running.dec()
                self.metrics.finished(method, route, status, elapsed)
            actor = scope.get("state", {}).get("actor")
            log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "trace_id": trace_id_of(request_id),
                        "method": method,
                        "path": scope.get("path"),
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "tenant_id": str(actor.tenant_id) if actor else None,
                    }
                },
            )
