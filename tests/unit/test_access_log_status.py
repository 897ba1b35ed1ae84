"""The access log and the request metrics record the status the client gets, also when an
exception raised in a middleware (a rate limiter looking a token up in a database that is down)
passes through the log middleware on its way to the exception handlers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.testing import TestClient

from valorize_core.model.errors import NotFound, Unavailable
from valorize_entrypoints.api.errors import internal_error, problem_details
from valorize_entrypoints.api.observability import HttpMetrics, RequestLogMiddleware


class _Raising:
    """A middleware after the log that raises before the route runs."""

    error: Exception = Unavailable("the database does not answer")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raise self.error


@get("/thing")
async def thing() -> dict[str, str]:
    return {"ok": "yes"}


@pytest.mark.parametrize(("error", "status"), [(Unavailable("down"), 503), (NotFound("token", None), 404)])
def test_the_log_records_the_status_the_client_gets(error: Exception, status: int) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("valorize.access").addHandler(handler)
    _Raising.error = error
    metrics = HttpMetrics(prefix=f"vztest_access_{status}")

    def log(app: Any) -> RequestLogMiddleware:
        return RequestLogMiddleware(app, metrics)

    app = Litestar(
        route_handlers=[thing],
        middleware=[log, _Raising],
        plugins=[ProblemDetailsPlugin(problem_details())],
        exception_handlers={Exception: internal_error},
    )
    try:
        with TestClient(app) as client:
            answered = client.get("/thing")
    finally:
        logging.getLogger("valorize.access").removeHandler(handler)
    assert answered.status_code == status
    (record,) = [r for r in records if r.getMessage() == "request"]
    assert record.fields["status"] == status  # type: ignore[attr-defined]
