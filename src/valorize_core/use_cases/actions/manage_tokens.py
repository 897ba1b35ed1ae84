"""Actions: create and revoke API tokens."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.model.errors import NotFound, PermissionDenied
from valorize_core.model.identity import ApiToken, Role, generate_token_secret, hash_token, parse_role
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["CreateToken", "IssuedToken", "NewToken", "RevokeToken", "TokenRevocation"]


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token for ``user_id``: at most the role the user holds and, when a token asks
    (``granted_by``, the asking token's role), at most that token's role. Without ``role`` it
    gets the highest it may: the asking token's role, or the user's (an operator at the CLI)."""

    tenant_id: UUID
    user_id: UUID
    name: str
    role: Role | str | None = None
    granted_by: Role | str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """The stored token and its secret, shown this once."""

    token: ApiToken
    secret: str


class CreateToken:
    """Issues a token; no token mints a token above its own role, nor above its user's."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewToken) -> IssuedToken:
        """Create it and return the secret once."""
        async with self._ports.uow(command.tenant_id) as uow:
            # Held: a removal or role change running at once waits for this token (and revokes or
            # lowers it), or comes first (and the token is refused or capped).
            membership = await uow.identity.get_membership(command.user_id, for_share=True)
            if membership is None:
                raise NotFound("user", command.user_id)
            ceiling = membership.role if command.granted_by is None else Role(command.granted_by)
            role = ceiling.capped_at(membership.role) if command.role is None else parse_role(command.role)
            if not ceiling.covers(role):
                raise PermissionDenied(f"a {ceiling} token cannot create a {role} token")
            if not membership.role.covers(role):
                raise PermissionDenied(f"a {membership.role} cannot hold a {role} token")
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
    """Which token to revoke, and who asks: the asking user and their token's role. Owners may
    revoke anyone's token, others only their own; nobody revokes a token above their role."""

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
            requester = Role(command.requester_role)
            if token.user_id != command.requested_by and not requester.can_manage_members:
                raise NotFound("token", command.token_id)
            if not requester.covers(token.role):
                raise PermissionDenied(f"a {requester} token cannot revoke a {token.role} token")
            if token.revoked_at is None:
                token = replace(token, revoked_at=self._ports.clock.now())
                await uow.identity.update_token(token)
                await uow.commit()
        return token
