"""One mapping from errors to RFC 9457 ``application/problem+json`` responses."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException

from valorize_adapters.postgres.errors import UNAVAILABLE, unavailable
from valorize_core.model.errors import Conflict, DomainError, NotFound, PermissionDenied, Unavailable, ValidationError

__all__ = ["internal_error", "problem_details", "status_of"]

log = logging.getLogger("valorize.api")

_STATUS: list[tuple[type[DomainError], int, str]] = [
    (ValidationError, 422, "Invalid input"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (PermissionDenied, 403, "Forbidden"),
    (Unavailable, 503, "Service unavailable"),
]


def _domain(exc: DomainError) -> ProblemDetailsException:
    status, title = 400, "Bad request"
    for kind, code, text in _STATUS:
        if isinstance(exc, kind):
            status, title = code, text
            break
    extra: dict[str, Any] = {"code": exc.code}
    if isinstance(exc, ValidationError) and exc.errors:
        extra["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    message = exc.message
    headers: dict[str, str] | None = None
    if isinstance(exc, NotFound):
        message = f"{exc.kind} not found"  # never echo another tenant's ids back
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    return ProblemDetailsException(
        status_code=status,
        title=title,
        detail=message,
        extra=extra,
        headers=headers,
        type_=f"https://valorize.dev/problems/{exc.code}",
    )


def status_of(exc: BaseException) -> int:
    """The status the exception handlers answer ``exc`` with (what the access log records when
    an exception passes through a middleware on its way to them)."""
    if isinstance(exc, DomainError):
        return _domain(exc).status_code
    if isinstance(exc, UNAVAILABLE):
        return 503
    if isinstance(exc, ValidationException):
        return 422
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 500


def _unavailable(exc: Exception) -> ProblemDetailsException:
    """A database error that reached the API untranslated (a pool user outside a unit of work)."""
    return _domain(unavailable(exc) or Unavailable("the database does not answer"))


def _validation(exc: ValidationException) -> ProblemDetailsException:
    fields = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            fields.append(
                {"field": str(item.get("key") or item.get("source") or ""), "message": str(item.get("message", ""))}
            )
    return ProblemDetailsException(
        status_code=422,
        title="Invalid input",
        detail=exc.detail or "the request is not valid",
        extra={"code": "validation_error", "errors": fields},
        type_="https://valorize.dev/problems/validation_error",
    )


def _http(exc: HTTPException) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=exc.status_code, title=exc.detail, detail=exc.detail, headers=exc.headers, extra=exc.extra
    )


def problem_details() -> ProblemDetailsConfig:
    """The plugin configuration: domain errors, validation errors and HTTP errors."""
    return ProblemDetailsConfig(
        enable_for_all_http_exceptions=False,
        exception_to_problem_detail_map={
            DomainError: _domain,
            **dict.fromkeys(UNAVAILABLE, _unavailable),
            ValidationException: _validation,
            HTTPException: _http,
        },
    )


def internal_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:  # type: ignore[type-arg]
    """Anything unexpected: logged with the request id, answered without internals."""
    log.exception("unhandled error", extra={"request_id": request.scope.get("state", {}).get("request_id")})
    body = {"status": 500, "title": "Internal error", "detail": "something went wrong on our side"}
    return Response(body, status_code=500, media_type="application/problem+json")
