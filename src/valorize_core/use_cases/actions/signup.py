"""Action: sign up: a tenant, its owner and the owner's first API token."""

from __future__ import annotations

from dataclasses import dataclass

from valorize_core.model.errors import Conflict
from valorize_core.model.identity import (
    ApiToken,
    Membership,
    Role,
    Tenant,
    User,
    generate_token_secret,
    hash_token,
    normalize_email,
)
from valorize_core.use_cases.context import Ports

__all__ = ["Signup", "SignupRequest", "SignupResult"]


@dataclass(frozen=True, slots=True)
class SignupRequest:
    """Who is signing up and the name of their household or business."""

    tenant_name: str
    email: str
    user_name: str


@dataclass(frozen=True, slots=True)
class SignupResult:
    """The new tenant and owner, and the token secret, shown this once."""

    tenant: Tenant
    user: User
    token: ApiToken
    token_secret: str


class Signup:
    """Creates a tenant with its owner and a first token in one unit of work."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: SignupRequest) -> SignupResult:
        """Sign up; an e-mail already registered is a :class:`Conflict`."""
        now = self._ports.clock.now()
        email = normalize_email(command.email)
        tenant = Tenant(self._ports.ids.new_id(), command.tenant_name, now)
        user = User(self._ports.ids.new_id(), email, command.user_name, now)
        secret = generate_token_secret()
        token = ApiToken(
            self._ports.ids.new_id(), tenant.id, user.id, "first token", hash_token(secret), Role.OWNER, now,
            last_four=secret[-4:],
        )  # fmt: skip
        if await self._ports.directory.user_by_email(email) is not None:
            raise Conflict("that e-mail is already registered")
        async with self._ports.uow(tenant.id) as uow:
            await uow.identity.add_tenant(tenant)
            await uow.identity.add_user(user)
            await uow.identity.add_membership(Membership(tenant.id, user.id, Role.OWNER))
            await uow.identity.add_token(token)
            await uow.commit()
        return SignupResult(tenant, user, token, secret)
