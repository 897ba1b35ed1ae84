"""Query: the tenant's members and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.identity import Member
from valorize_core.use_cases.context import Ports

__all__ = ["ListMembers", "MembersQuery"]


@dataclass(frozen=True, slots=True)
class MembersQuery:
    """Whose members."""

    tenant_id: UUID


class ListMembers:
    """Each member: their user and role."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: MembersQuery) -> list[Member]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.identity.list_members()
