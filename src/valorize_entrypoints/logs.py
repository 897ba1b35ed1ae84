"""Logging shared by every role: structured lines through structlog, and the ids they carry.

Code logs with the standard library (``log.info("request", extra={"fields": {...}})``); one
handler on the root logger renders every record — Valorize's and third-party ones — with
structlog's processors:

- as one JSON object per line (production): ``timestamp`` (ISO 8601, UTC), ``severity``
  (Cloud Logging's field: ``INFO``, ``WARNING``, ...), ``message``, ``logger``, the record's
  fields, and ``request_id`` / ``trace_id`` of the request or task the line was written for
  (from the correlation id; ``logging.googleapis.com/trace`` too when a Google Cloud project is
  known, so Cloud Logging groups a request's lines and links them to its trace);
- as aligned, coloured key=value text (``valorize dev``; colour only on a terminal) with the
  same fields.

Third-party loggers (ofxtools, google, urllib3, ...) are kept at WARNING unless the level asked
for is DEBUG.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from valorize_core.use_cases.correlation import current_correlation_id

if TYPE_CHECKING:
    from valorize_entrypoints.settings import Settings

__all__ = [
    "QUIET_LOGGERS",
    "SAFE_REQUEST_ID",
    "configure_logging",
    "configure_logging_from",
    "incoming_trace_id",
    "trace_id_of",
]

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/|;|$)")

# Chatty at INFO (ofxtools logs ~20 lines per statement parsed); WARNING unless DEBUG is asked.
QUIET_LOGGERS = ("ofxtools", "google", "urllib3", "httpx", "httpcore", "asyncio", "sentence_transformers", "filelock")

_encoder = msgspec.json.Encoder(enc_hook=str)  # anything not JSON (ids, dates) as its str()


def trace_id_of(correlation_id: str) -> str:
    """The trace id (32 hex digits, W3C / Cloud Trace) of the work started by ``correlation_id``.

    A request id that already is a trace id (the ones Valorize makes, or one taken from a
    ``traceparent``) is its own trace id; any other is hashed to one. Tasks carry the correlation
    id, so the request and every task it causes log the same trace id with nothing more stored.
    """
    if _TRACE_ID.match(correlation_id) and correlation_id != "0" * 32:
        return correlation_id
    return hashlib.blake2b(correlation_id.encode(), digest_size=16).hexdigest()


def incoming_trace_id(traceparent: str, cloud_trace_context: str) -> str | None:
    """The trace id a caller (a load balancer, a traced client) sent, if any and well formed."""
    for pattern, value in ((_TRACEPARENT, traceparent), (_CLOUD_TRACE, cloud_trace_context)):
        match = pattern.match(value)
        if match and match.group(1).strip("0"):
            return match.group(1).lower()
    return None


def _record_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The record's ``fields`` (the ``extra={"fields": ...}`` convention) as keys of the line."""
    record = event.get("_record")
    fields = getattr(record, "fields", None)
    if isinstance(fields, dict):
        for key, value in fields.items():
            event.setdefault(key, value)
    if record is not None:
        event["severity"] = record.levelname
        event["logger"] = record.name
    return event


def _correlation(project: str) -> structlog.types.Processor:
    def add(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """The request (or task) this line was written for, and its trace."""
        request_id = event.get("request_id") or current_correlation_id()
        if request_id:
            event["request_id"] = request_id
            trace = event.setdefault("trace_id", trace_id_of(request_id))
            if project:
                event["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace}"
        return event

    return add


def _level_for_console(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The console renderer's level column (``info``, coloured by level) instead of ``severity``."""
    event["level"] = str(event.pop("severity", "info")).lower()
    return event


def _json(event: Any, **_: Any) -> str:
    return _encoder.encode(event).decode()


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a line is written (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


class _JsonLines(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter of JSON lines, with a short way for the common record: a plain
    ``logging`` record with no exception or stack to render (every access line) is run through
    the same pre-chain and encoded directly, without the record's copy and the renderer's four
    steps that have nothing to do for it (perf/README.md: 20 → 8 µs a line). Any other record
    (one whose fields carry an ``exc_info`` key too) goes the whole way.
    ``tests/api/test_structured_logs.py`` holds both ways to the same line."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.stack_info or hasattr(record, "_logger"):
            return super().format(record)
        method = record.levelname.lower()
        event: Any = {"event": record.getMessage(), "_record": record, "_from_structlog": False}
        for step in self.foreign_pre_chain or ():
            event = step(None, method, event)
        if "exc_info" in event:  # a field of that name: the renderer's format_exc_info takes it
            return super().format(record)
        del event["_record"], event["_from_structlog"]
        event["message"] = event.pop("event")
        return _json(event)


def _formatter(json_lines: bool, project: str, colors: bool) -> logging.Formatter:
    chain: list[structlog.types.Processor] = [
        _record_fields,
        _correlation(project),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]
    renderer: list[structlog.types.Processor]
    if json_lines:
        renderer = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(serializer=_json),
        ]
    else:
        renderer = [
            _level_for_console,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(
                colors=colors, sort_keys=False, exception_formatter=structlog.dev.plain_traceback
            ),  # no local variables (secrets) in tracebacks
        ]
    if json_lines:
        return _JsonLines(foreign_pre_chain=chain, processors=renderer)
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=chain, processors=renderer)


def configure_logging(json_lines: bool = True, level: int | str = logging.INFO, *, project: str = "") -> None:
    """Render every log record to stderr: JSON lines (``json_lines``) or readable text.

    ``level`` applies to Valorize's loggers; third-party ones (:data:`QUIET_LOGGERS`) stay at
    WARNING unless it is DEBUG. ``project`` is the Google Cloud project the trace ids belong to.
    Calling it again replaces the handler it installed (handlers others added are kept).
    """
    level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(level, int):
        raise ValueError(f"not a log level: {level!r}")
    handler = _StderrHandler()
    handler.set_name("valorize")
    handler.setFormatter(_formatter(json_lines, project, colors=not json_lines and sys.stderr.isatty()))
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "valorize"] + [handler]
    valorize = logging.getLogger("valorize")
    valorize.handlers[:] = [h for h in valorize.handlers if h.get_name() != "valorize"]
    valorize.setLevel(level)
    valorize.propagate = True
    # A library's logging.config.dictConfig (disable_existing_loggers defaults to True) silences
    # every logger that existed before it; Valorize's own are made live again here.
    for name, existing in list(logging.root.manager.loggerDict.items()):
        if (name == "valorize" or name.startswith("valorize.")) and isinstance(existing, logging.Logger):
            existing.disabled = False
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)


def configure_logging_from(settings: Settings) -> None:
    """:func:`configure_logging` as ``VALORIZE_LOG_JSON``, ``_LOG_LEVEL`` and ``_GCP_PROJECT`` say
    (the project defaults to the one of the Cloud Tasks queue, ``projects/P/...``)."""
    project = settings.gcp_project
    if not project and settings.cloud_tasks_queue.startswith("projects/"):
        project = settings.cloud_tasks_queue.split("/")[1]
    configure_logging(settings.log_json, settings.log_level, project=project)
