"""Actions: create and revoke API tokens."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.actions._shared import require
from valorize_core.context import Ports
from valorize_core.errors import NotFound, PermissionDenied
from valorize_core.identity import ApiToken, Role, generate_token_secret, hash_token

__all__ = ["CreateToken", "IssuedToken", "NewToken", "RevokeToken", "TokenRevocation"]


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token for ``user_id`` with at most the role the user holds."""

    tenant_id: UUID
    user_id: UUID
    name: str
    role: Role | str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """The stored token and its secret, shown this once."""

    token: ApiToken
    secret: str


class CreateToken:
    """Issues a token; nobody can mint a token above their own role."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewToken) -> IssuedToken:
        """Create it and return the secret once."""
        async with self._ports.uow(command.tenant_id) as uow:
            membership = await uow.identity.get_membership(command.user_id)
            if membership is None:
                raise NotFound("user", command.user_id)
            role = membership.role if command.role is None else Role(command.role)
            rank = [Role.VIEWER, Role.MEMBER, Role.OWNER]
            if rank.index(role) > rank.index(membership.role):
                raise PermissionDenied(f"a {membership.role} cannot create a {role} token")
            secret = generate_token_secret()
            token = ApiToken(
                self._ports.ids.new_id(), command.tenant_id, command.user_id, command.name, hash_token(secret),
                role, self._ports.clock.now(), last_four=secret[-4:],
            )  # fmt: skip
            await uow.identity.add_token(token)
            await uow.commit()
        return IssuedToken(token, secret)


@dataclass(frozen=True, slots=True)
class TokenRevocation:
    """Which token to revoke, and who asks (owners may revoke anyone's)."""

    tenant_id: UUID
    token_id: UUID
    requested_by: UUID
    requester_role: Role


class RevokeToken:
    """Revokes a token: it authenticates nobody from then on."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: TokenRevocation) -> ApiToken:
        """Revoke it (idempotent) and return it."""
        async with self._ports.uow(command.tenant_id) as uow:
            token = await require(uow.identity.get_token, command.token_id, "token")
            if token.user_id != command.requested_by and not Role(command.requester_role).can_manage_members:
                raise NotFound("token", command.token_id)
            if token.revoked_at is None:
                token = replace(token, revoked_at=self._ports.clock.now())
                await uow.identity.update_token(token)
                await uow.commit()
        return token
