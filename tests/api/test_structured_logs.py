"""The log lines operators read: one structured line per request and per task, with every field
Cloud Logging and a person need, and the same trace id from the request to the task it caused."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.logs import configure_logging, trace_id_of
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.worker import SECRET_HEADER

EVERY_FIELD = {"timestamp", "severity", "message", "method", "route", "status", "duration_ms", "tenant_id",
               "request_id", "trace_id"}  # fmt: skip


def _app(log_json: bool) -> TestClient[Any]:
    container = Container()
    settings = Settings(backend="memory", worker_secret="s3cret", log_json=log_json, gcp_project="acme")
    container.settings.override(settings)
    return TestClient(create_app(container, include_worker=True))


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    with _app(log_json=True) as client:
        yield client
    configure_logging(json_lines=True)


def _lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_a_request_and_the_task_it_caused_log_every_field(
    client: TestClient[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    api = Api(client)
    account, food = api.account(), api.category("Food")
    # A budget: a write's follow-up (its evaluation) has something to do, so the write causes a task.
    assert api.post("/api/budgets", {"category_id": food, "limit": "100.00", "currency": "BRL"}).status_code == 201
    runtime = client.app.state.runtime
    while runtime.task_queue.take() is not None:  # the budget's own evaluation
        pass
    capsys.readouterr()
    today = runtime.backend.ports.clock.today().isoformat()  # a day the budget exists on
    written = api.tx(account, today, "MERCADO", "-9.00", category_id=food)
    assert written.status_code == 201
    request_id = written.headers["x-request-id"]
    task = runtime.task_queue.take()
    assert task is not None
    assert task.correlation_id == request_id
    headers = {SECRET_HEADER: "s3cret", "x-cloudtasks-taskname": task.id.hex, "x-request-id": request_id}
    body = {"tenant_id": str(task.tenant_id), "payload": task.payload}
    assert client.post(f"/tasks/{task.name}", json=body, headers=headers).json()["outcome"] == "done"

    lines = _lines(capsys.readouterr().err)
    request = next(line for line in lines if line["message"] == "request" and line["method"] == "POST")
    assert request.keys() >= EVERY_FIELD, EVERY_FIELD - request.keys()
    assert (request["route"], request["status"], request["severity"]) == ("/api/transactions", 201, "INFO")
    assert request["tenant_id"] == api.tenant_id
    assert request["request_id"] == request_id
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", request["timestamp"])
    assert re.fullmatch(r"[0-9a-f]{32}", request["trace_id"])
    assert request["logging.googleapis.com/trace"] == f"projects/acme/traces/{request['trace_id']}"
    assert isinstance(request["duration_ms"], float | int)

    done = next(line for line in lines if line["message"] == "task")
    assert done.keys() >= EVERY_FIELD, EVERY_FIELD - done.keys()
    assert (done["route"], done["status"], done["task"], done["outcome"]) == ("/tasks/{name}", 200, task.name, "done")
    assert (done["request_id"], done["trace_id"]) == (request_id, request["trace_id"])
    assert done["tenant_id"] == api.tenant_id


def test_request_ids_and_trace_ids() -> None:
    """A generated request id is a trace id; a caller's trace (W3C or Cloud Trace) is kept; a
    caller's own request id maps to one trace id, the same wherever it is logged."""
    from valorize_entrypoints.api.observability import request_id_of

    made = request_id_of({})
    assert trace_id_of(made) == made
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert request_id_of({b"traceparent": parent.encode()}) == "4bf92f3577b34da6a3ce929d0e0e4736"
    cloud = b"105445AA7843BC8BF206B12000100000/1;o=1"
    assert request_id_of({b"x-cloud-trace-context": cloud}) == "105445aa7843bc8bf206b12000100000"
    assert request_id_of({b"x-request-id": b"abc-123", b"traceparent": parent.encode()}) == "abc-123"
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id_of("abc-123"))
    assert trace_id_of("abc-123") == trace_id_of("abc-123")
    assert request_id_of({b"traceparent": b"00-" + b"0" * 32 + b"-00f067aa0ba902b7-01"}) != "0" * 32


def test_dev_logs_the_same_fields_readably(capsys: pytest.CaptureFixture[str]) -> None:
    with _app(log_json=False) as client:
        api = Api(client)
        capsys.readouterr()
        api.get("/api/accounts", headers={"x-request-id": "dev-1"})
        err = capsys.readouterr().err
    configure_logging(json_lines=True)
    line = next(line for line in err.splitlines() if "request_id=dev-1" in line)
    assert "[info" in line
    assert "request" in line
    assert not line.startswith("{")
    for field in ("method=GET", "route=/api/accounts", "status=200", "duration_ms=", f"tenant_id={api.tenant_id}",
                  f"trace_id={trace_id_of('dev-1')}"):  # fmt: skip
        assert field in line, (field, line)
    assert "\x1b[" not in line  # no colour codes when stderr is not a terminal


def test_third_party_chatter_is_quiet_unless_debug_is_asked(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        configure_logging(json_lines=True)
        logging.getLogger("ofxtools.Parser").info("chatter %s", uuid.uuid4())
        logging.getLogger("google.api_core").warning("worth knowing")
        configure_logging(json_lines=True, level="debug")
        logging.getLogger("ofxtools.Parser").info("asked for")
        messages = [line["message"] for line in _lines(capsys.readouterr().err)]
    finally:
        configure_logging(json_lines=True)
    assert messages == ["worth knowing", "asked for"]


def test_a_library_that_disables_existing_loggers_does_not_silence_ours(capsys: pytest.CaptureFixture[str]) -> None:
    """``dictConfig`` disables existing loggers by default (import-linter's does): configuring
    Valorize's logging makes them live again."""
    import logging.config

    logging.getLogger("valorize.access")
    logging.config.dictConfig({"version": 1})  # disable_existing_loggers: True
    assert logging.getLogger("valorize.access").disabled
    try:
        configure_logging(json_lines=True)
        logging.getLogger("valorize.access").info("request", extra={"fields": {"status": 200}})
        lines = _lines(capsys.readouterr().err)
    finally:
        configure_logging(json_lines=True)
    assert [(line["message"], line["status"]) for line in lines] == [("request", 200)]
