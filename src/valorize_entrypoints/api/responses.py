"""The error responses every API route documents (all are problem+json), and 202 Accepted."""

from __future__ import annotations

from typing import TypeVar

from litestar import Response
from litestar.openapi.datastructures import ResponseSpec

from valorize_entrypoints.api.schemas import ProblemOut

__all__ = ["ERRORS", "accepted"]

T = TypeVar("T")


def accepted(body: T, location: str) -> Response[T]:
    """202 Accepted: work that runs in the background, and where to follow it."""
    return Response(body, status_code=202, headers={"Location": location})


_PROBLEM = "application/problem+json"
ERRORS = {
    code: ResponseSpec(data_container=ProblemOut, description=text, media_type=_PROBLEM, generate_examples=False)
    for code, text in (
        (400, "Malformed request or Idempotency-Key"),
        (401, "Missing or invalid bearer token"),
        (403, "The token's role may not do this"),
        (404, "Not found (other tenants' ids do not exist)"),
        (409, "Conflicts with the current state, or a duplicate request still running"),
        (422, "Invalid input; `errors` lists the fields"),
    )
}
