"""Query: the tenant's API tokens (their details, never their secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.identity import ApiToken
from valorize_core.use_cases.context import Ports

__all__ = ["ListTokens", "TokensQuery"]


@dataclass(frozen=True, slots=True)
class TokensQuery:
    """Whose tokens: every member's, or one user's when ``user_id`` is given."""

    tenant_id: UUID
    user_id: UUID | None = None


class ListTokens:
    """Tokens, revoked ones included."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: TokensQuery) -> list[ApiToken]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.identity.list_tokens(query.user_id)
