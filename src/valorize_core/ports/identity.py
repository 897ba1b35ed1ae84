"""Ports: users, memberships and tokens (tenant-bound), and the cross-tenant token lookup."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from valorize_core.model.identity import ApiToken, Member, Membership, Tenant, User

__all__ = ["IdentityDirectory", "IdentityRepository"]


class IdentityRepository(Protocol):
    """The unit of work's tenant, its members and their tokens."""

    async def get_tenant(self) -> Tenant | None:
        """The tenant this unit of work is bound to."""
        ...

    async def add_tenant(self, tenant: Tenant) -> None:
        """Create the tenant (signup)."""
        ...

    async def add_user(self, user: User) -> None:
        """Create a user."""
        ...

    async def get_user(self, user_id: UUID) -> User | None:
        """A member of this tenant, or ``None``."""
        ...

    async def home_user_by_email(self, email: str) -> User | None:
        """The user with this (normalized) e-mail who signed up or was invited here, a member
        of this tenant or not (a removed member keeps their user), or ``None``."""
        ...

    async def add_membership(self, membership: Membership) -> None:
        """Give a user a role in this tenant, or change the role they have."""
        ...

    async def get_membership(self, user_id: UUID, *, for_share: bool = False) -> Membership | None:
        """The user's membership in this tenant; ``for_share`` keeps it from being changed or
        removed until the unit of work ends (other readers are not held up)."""
        ...

    async def list_members(self, *, for_update: bool = False) -> list[Member]:
        """The members of this tenant by e-mail; ``for_update`` holds their memberships until
        the unit of work ends, so two concurrent changes cannot both pass a check on them
        (the last owner)."""
        ...

    async def remove_membership(self, user_id: UUID) -> None:
        """Take a user's membership away (their user and tokens stay, for the record)."""
        ...

    async def add_token(self, token: ApiToken) -> None:
        """Store a token (its hash)."""
        ...

    async def get_token(self, token_id: UUID) -> ApiToken | None:
        """A token of this tenant."""
        ...

    async def list_tokens(self, user_id: UUID | None = None) -> list[ApiToken]:
        """Tokens of this tenant (of one user when given), newest first."""
        ...

    async def update_token(self, token: ApiToken) -> None:
        """Store a token's new state (revocation)."""
        ...


class IdentityDirectory(Protocol):
    """Lookups that come before a tenant is known: authentication and signup checks."""

    async def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this hash in any tenant, or ``None``. A token authenticates no more
        than its user's membership allows: ``None`` once the user is no longer a member, and its
        role capped at the member's role."""
        ...

    async def user_by_email(self, email: str) -> User | None:
        """The user with this (normalized) e-mail, or ``None``."""
        ...

    async def memberships(self, user_id: UUID) -> list[Membership]:
        """Every tenant the user belongs to, oldest first."""
        ...
