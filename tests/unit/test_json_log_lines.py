"""JSON log lines: the short way for a plain record (every access line) writes the line the
whole structlog way writes, key for key, in the same order; so does an outside tester's odd
record (odd field types, non-ASCII, % arguments, fields named like structlog's own keys)."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import structlog

from valorize_core.use_cases.correlation import correlated
from valorize_entrypoints.api.observability import request_id_of
from valorize_entrypoints.logs import SAFE_REQUEST_ID, configure_logging, trace_id_of


@pytest.fixture
def formatter() -> Iterator[logging.Formatter]:
    configure_logging(json_lines=True, project="acme")
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "valorize")
    assert handler.formatter is not None
    yield handler.formatter
    configure_logging(json_lines=True)


def _record(
    message: Any,
    *args: Any,
    exc_info: Any = None,
    name: str = "valorize.access",
    level: int = logging.INFO,
    **extra: Any,
) -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(name, level, __file__, 1, message, args, exc_info, extra=extra)


def _odd(message: Any, *args: Any, **extra: Any) -> logging.LogRecord:
    """A warning of another logger than the access lines'."""
    return _record(message, *args, name="valorize.odd", level=logging.WARNING, **extra)


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


ODD_FIELDS: dict[str, Any] = {
    "id": uuid.UUID(int=7),
    "day": date(2026, 12, 5),
    "at": datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC),
    "amount": Decimal("-12.50"),
    "raw": b"\xff\x00",
    "set": {3},
    "nested": {"a": [1, {"b": None}], 7: "int key"},
    "text": "São Paulo — ção ✓ 😀 \u2028 \x00",
    "big": 2**70,
    "nan": float("nan"),
    "none": None,
    "tuple": (1, "x"),
}


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(lambda: _odd("odd", fields=ODD_FIELDS), id="odd-field-types"),
        pytest.param(lambda: _odd("ção %s %d%%", "ü", 5, fields={"k": "ß"}), id="percent-args"),
        pytest.param(lambda: _odd("%(a)s and %(b)r", {"a": "x", "b": [1]}), id="mapping-args"),
        pytest.param(lambda: _odd({"not": "a string"}), id="dict-message"),
        pytest.param(lambda: _odd(ValueError("as message")), id="exception-object-message"),
        pytest.param(lambda: _odd("shadows", fields={"message": "mine", "event": "e", "logger": "l"}), id="shadow"),
        pytest.param(lambda: _odd("meta", fields={"_record": 1, "_from_structlog": 2, "severity": "X"}), id="meta"),
        pytest.param(lambda: _odd("ids", fields={"request_id": "", "trace_id": None}), id="empty-request-id"),
        pytest.param(lambda: _odd("plain extra", user="not in fields"), id="extra-outside-fields"),
        pytest.param(lambda: _odd("fields not a dict", fields=["a", "b"]), id="fields-list"),
    ],
)
def test_any_plain_record_gives_the_line_structlog_writes(formatter: logging.Formatter, record: Any) -> None:
    with correlated("0123456789abcdef" * 2):
        made = record()
        assert _line(formatter.format(made)) == _line(_whole_way(formatter, made))


def test_a_field_named_exc_info_gives_the_line_structlog_writes(formatter: logging.Formatter) -> None:
    """structlog's ``format_exc_info`` takes an ``exc_info`` key wherever it comes from: the
    whole way drops it (or renders the exception being handled); the line must be the same."""
    plain = _odd("flagged", fields={"exc_info": False, "status": 500})
    assert _line(formatter.format(plain)) == _line(_whole_way(formatter, plain))
    try:
        raise KeyError("handled")
    except KeyError:
        flagged = _odd("while handling", fields={"exc_info": True})
        short, whole = formatter.format(flagged), _whole_way(formatter, flagged)
    assert _line(short) == _line(whole)
    assert "KeyError" in json.loads(short)["exception"]


def test_a_made_request_id_is_a_fresh_trace_id_each_time() -> None:
    made = {request_id_of({}) for _ in range(2000)}
    assert len(made) == 2000
    for rid in made:
        assert len(rid) == 32
        assert set(rid) <= set("0123456789abcdef")
        assert SAFE_REQUEST_ID.match(rid)
        assert trace_id_of(rid) == rid
    unsafe = {b"x-request-id": b"bad id\xff", b"traceparent": b"junk"}
    assert len({request_id_of(unsafe) for _ in range(100)}) == 100
    assert request_id_of({b"x-request-id": b"abc-1.2:3_"}) == "abc-1.2:3_"
