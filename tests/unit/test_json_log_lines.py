"""JSON log lines: the short way for a plain record (every access line) writes the line the
whole structlog way writes, key for key, in the same order."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from valorize_core.use_cases.correlation import correlated
from valorize_entrypoints.logs import configure_logging


@pytest.fixture
def formatter() -> Iterator[logging.Formatter]:
    configure_logging(json_lines=True, project="acme")
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "valorize")
    assert handler.formatter is not None
    yield handler.formatter
    configure_logging(json_lines=True)


def _record(message: str, *args: Any, exc_info: Any = None, **extra: Any) -> logging.LogRecord:
    return logging.getLogger("valorize.access").makeRecord(
        "valorize.access", logging.INFO, __file__, 1, message, args, exc_info, extra=extra
    )


def _line(text: str) -> list[tuple[str, Any]]:
    """The line's keys and values in order, its timestamp's value left out (it is now)."""
    return [(key, None if key == "timestamp" else value) for key, value in json.loads(text).items()]


def _whole_way(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    return structlog.stdlib.ProcessorFormatter.format(formatter, record)  # type: ignore[arg-type]


def test_a_plain_record_is_the_line_structlog_writes(formatter: logging.Formatter) -> None:
    fields = {"request_id": "ab" * 16, "method": "GET", "route": "/api/transactions", "status": 200,
              "duration_ms": 1.25, "tenant_id": None}  # fmt: skip
    records = [
        _record("request", fields=fields),
        _record("request", fields={**fields, "request_id": "abc-123", "trace_id": "cd" * 16}),
        _record("relay: %s events, %d tasks", "3", 2),
        _record("no fields at all"),
    ]
    with correlated("0123456789abcdef" * 2):  # the request id of lines without one of their own
        for record in records:
            short, whole = formatter.format(record), _whole_way(formatter, record)
            assert _line(short) == _line(whole)
            assert [key for key, _ in _line(short)][-2:] == ["timestamp", "message"]
    assert (
        json.loads(formatter.format(records[0]))["logging.googleapis.com/trace"] == f"projects/acme/traces/{'ab' * 16}"
    )


def test_the_short_way_copies_no_record(formatter: logging.Formatter, monkeypatch: pytest.MonkeyPatch) -> None:
    copies: list[int] = []
    original = logging.makeLogRecord
    monkeypatch.setattr(logging, "makeLogRecord", lambda d: copies.append(1) or original(d))
    formatter.format(_record("request", fields={"status": 200}))
    assert copies == []


def test_a_record_with_an_exception_goes_the_whole_way(formatter: logging.Formatter) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    line = json.loads(formatter.format(record))
    assert line["message"] == "failed"
    assert "ValueError: boom" in line["exception"]
