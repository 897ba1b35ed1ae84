"""Query: a member's user (their name and email), as the tenant knows them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.identity import User
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["GetUser", "UserLookup"]


@dataclass(frozen=True, slots=True)
class UserLookup:
    """Which user, among the tenant's members."""

    tenant_id: UUID
    user_id: UUID


class GetUser:
    """Reads a member's user or raises :class:`NotFound` (also for a user who is not a member)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: UserLookup) -> User:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await require(uow.identity.get_user, query.user_id, "user")
