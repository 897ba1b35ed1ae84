"""The category tree stays a tree under concurrent moves: two moves that are each valid alone
(A under B, B under A) must not both commit, or the tree has a cycle that no read can walk."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_core.actions.update_category import CategoryChanges
from valorize_core.errors import ValidationError


def test_two_categories_moved_under_each_other_at_once_never_make_a_cycle(api: Api, client: TestClient[Any]) -> None:
    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)

    async def both(a: uuid.UUID, b: uuid.UUID) -> list[Any]:
        moves = [CategoryChanges(tenant, a, parent_id=b), CategoryChanges(tenant, b, parent_id=a)]
        return await asyncio.gather(*(vz.update_category(m) for m in moves), return_exceptions=True)

    for round_ in range(8):
        a, b = (uuid.UUID(api.category(f"{name}{round_}")) for name in ("A", "B"))
        outcomes = client.blocking_portal.call(both, a, b)
        assert sum(isinstance(o, ValidationError) for o in outcomes) == 1, outcomes  # one move; the other a cycle
        parents = {c["id"]: c["parent_id"] for c in api.get("/api/categories").json()}
        assert not (parents[str(a)] == str(b) and parents[str(b)] == str(a)), f"a cycle: {parents}"
    assert api.patch(f"/api/categories/{a}", {"name": "renamed"}).status_code == 200
