"""Bearer-token authentication: every request is scoped to its token's tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from valorize_core.app import Valorize
from valorize_core.model.identity import Role, hash_token
from valorize_entrypoints.api.asgi import Scope

__all__ = ["Actor", "authenticate", "authenticated", "provide_actor", "provide_writer", "request_actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: the token's tenant, user, role and id."""

    tenant_id: UUID
    user_id: UUID
    role: Role
    token_id: UUID


async def authenticate(authorization: str | None, vz: Valorize) -> Actor | None:
    """The actor behind an ``Authorization: Bearer …`` header, or ``None``."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        return None
    record = await vz.ports.directory.token_by_hash(hash_token(secret))
    if record is None or not record.active:
        return None
    return Actor(record.tenant_id, record.user_id, record.role, record.id)


async def request_actor(scope: Scope, vz: Valorize) -> Actor | None:
    """The actor of a request, authenticated once per request: the first layer that asks (the
    idempotency or cached-read middleware, or the route) looks the token up, and the others —
    and the access log — read its answer from the request's state."""
    state = scope.setdefault("state", {})
    if "actor" not in state:
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        state["actor"] = await authenticate(authorization.decode("latin-1"), vz)
    actor: Actor | None = state["actor"]
    return actor


async def authenticated(scope: Scope, vz: Valorize) -> Actor:
    """The actor of a request, or 401: the one place a request is refused for want of a valid
    token (the policy guard and the ``actor`` dependency both come here)."""
    actor = await request_actor(scope, vz)
    if actor is None:
        raise NotAuthorizedException(
            "a valid bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="valorize"'}
        )
    return actor


async def provide_actor(request: Request, vz: NamedDependency[Valorize]) -> Actor:  # type: ignore[type-arg]
    """Dependency: the authenticated actor, or 401.

    It depends on ``vz`` (which depends on ``runtime``) so that Litestar resolves the three one
    after another: dependencies at the same depth are resolved in a task group, whose tasks cost
    more than these lookups themselves.
    """
    return await authenticated(cast("Scope", request.scope), vz)  # Litestar's scope is a TypedDict


async def provide_writer(request: Request, vz: NamedDependency[Valorize]) -> Actor:  # type: ignore[type-arg]
    """Dependency: the actor of a route that writes. Whether their role may is decided before,
    for every route alike, by the policy table's guard (``api/policy.py``).

    The same answer as ``actor`` (the request's one authentication), asked directly rather than
    through ``actor``: a dependency Litestar resolves costs more than the lookup it makes."""
    return await authenticated(cast("Scope", request.scope), vz)
