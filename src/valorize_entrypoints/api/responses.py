"""The error responses every API route documents (all are problem+json)."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from valorize_entrypoints.api.schemas import ProblemOut

__all__ = ["ERRORS"]

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
