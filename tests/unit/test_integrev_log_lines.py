"""An outside tester's records for the short way of a JSON log line: whatever a record carries
(odd field types, non-ASCII, % arguments, fields named like structlog's own keys), the short way
writes the line the whole structlog way writes, key for key and in order."""

from __future__ import annotations

import json
import logging
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


def _record(message: Any, *args: Any, **extra: Any) -> logging.LogRecord:
    return logging.getLogger("valorize.odd").makeRecord(
        "valorize.odd", logging.WARNING, __file__, 1, message, args, None, extra=extra
    )


def _line(text: str) -> list[tuple[str, Any]]:
    return [(key, None if key == "timestamp" else value) for key, value in json.loads(text).items()]


def _whole_way(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    return structlog.stdlib.ProcessorFormatter.format(formatter, record)  # type: ignore[arg-type]


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
        pytest.param(lambda: _record("odd", fields=ODD_FIELDS), id="odd-field-types"),
        pytest.param(lambda: _record("ção %s %d%%", "ü", 5, fields={"k": "ß"}), id="percent-args"),
        pytest.param(lambda: _record("%(a)s and %(b)r", {"a": "x", "b": [1]}), id="mapping-args"),
        pytest.param(lambda: _record({"not": "a string"}), id="dict-message"),
        pytest.param(lambda: _record(ValueError("as message")), id="exception-object-message"),
        pytest.param(lambda: _record("shadows", fields={"message": "mine", "event": "e", "logger": "l"}), id="shadow"),
        pytest.param(lambda: _record("meta", fields={"_record": 1, "_from_structlog": 2, "severity": "X"}), id="meta"),
        pytest.param(lambda: _record("ids", fields={"request_id": "", "trace_id": None}), id="empty-request-id"),
        pytest.param(lambda: _record("plain extra", user="not in fields"), id="extra-outside-fields"),
        pytest.param(lambda: _record("fields not a dict", fields=["a", "b"]), id="fields-list"),
    ],
)
def test_any_plain_record_gives_the_line_structlog_writes(formatter: logging.Formatter, record: Any) -> None:
    with correlated("0123456789abcdef" * 2):
        made = record()
        assert _line(formatter.format(made)) == _line(_whole_way(formatter, made))


def test_a_field_named_exc_info_gives_the_line_structlog_writes(formatter: logging.Formatter) -> None:
    """structlog's ``format_exc_info`` takes an ``exc_info`` key wherever it comes from: the
    whole way drops it (or renders the exception being handled); the line must be the same."""
    plain = _record("flagged", fields={"exc_info": False, "status": 500})
    assert _line(formatter.format(plain)) == _line(_whole_way(formatter, plain))
    try:
        raise KeyError("handled")
    except KeyError:
        flagged = _record("while handling", fields={"exc_info": True})
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
