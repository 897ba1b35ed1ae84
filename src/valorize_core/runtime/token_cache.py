"""Remembering token lookups for a few seconds: every API request authenticates, and the
token → tenant lookup would otherwise be a database round trip per request.

Only found tokens are remembered (a brand-new token works at once); whether a token is active
is checked on every use, so an expiry takes effect on time. A revocation reaches a process
that cached the token within ``ttl`` seconds — the price of not asking the database each time.
"""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID

from valorize_core.model.identity import ApiToken, Membership, User
from valorize_core.ports.clock import Clock
from valorize_core.ports.identity import IdentityDirectory

__all__ = ["CachingDirectory"]


class CachingDirectory:
    """An :class:`IdentityDirectory` whose token lookups are kept ``ttl`` seconds (LRU-bounded)."""

    def __init__(self, inner: IdentityDirectory, clock: Clock, *, ttl: float = 10.0, size: int = 10_000) -> None:
        self._inner = inner
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._tokens: OrderedDict[str, tuple[float, ApiToken]] = OrderedDict()

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def token_by_hash(self, token_hash: str) -> ApiToken | None:
        hit = self._tokens.get(token_hash)
        now = self._now()
        if hit is not None and hit[0] > now:
            self._tokens.move_to_end(token_hash)
            return hit[1]
        found = await self._inner.token_by_hash(token_hash)
        if found is None:
            self._tokens.pop(token_hash, None)
            return None
        self._tokens[token_hash] = (now + self._ttl, found)
        self._tokens.move_to_end(token_hash)
        while len(self._tokens) > self._size:
            self._tokens.popitem(last=False)
        return found

    def cache_size(self) -> tuple[int, int]:
        """Tokens kept, and the bound."""
        return len(self._tokens), self._size

    def forget(self, token_id: UUID) -> None:
        """Drop a token at once (this process revoked it)."""
        for key in [k for k, (_, t) in self._tokens.items() if t.id == token_id]:
            del self._tokens[key]

    async def user_by_email(self, email: str) -> User | None:
        return await self._inner.user_by_email(email)

    async def memberships(self, user_id: UUID) -> list[Membership]:
        return await self._inner.memberships(user_id)
