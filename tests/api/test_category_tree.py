"""The category tree stays a tree under concurrent moves: two moves that are each valid alone
(A under B, B under A) must not both commit, or the tree has a cycle that no read can walk."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_core.model.errors import ValidationError
from valorize_core.use_cases.actions.update_category import CategoryChanges


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


def test_a_category_deleted_while_a_rule_assigning_it_is_created_leaves_no_dangling_rule(
    api: Api, client: TestClient[Any]
) -> None:
    """Deleting a category refuses while a rule assigns it, and a rule is refused an unknown
    category: run at once, one of the two must lose. A rule left assigning a deleted category
    makes every transaction it matches fail to save (the split's category is gone)."""
    from valorize_core.model.errors import DomainError
    from valorize_core.model.rules import Condition, ConditionGroup, SetCategory
    from valorize_core.use_cases.actions.create_rule import NewRule
    from valorize_core.use_cases.actions.delete_category import CategoryDeletion

    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)
    account = api.account()

    async def both(category: uuid.UUID, word: str) -> list[Any]:
        group = ConditionGroup("all", (Condition("description", "contains", word),))
        rule = NewRule(tenant, f"rule {word}", group, (SetCategory(category),))
        return await asyncio.gather(
            vz.delete_category(CategoryDeletion(tenant, category)), vz.create_rule(rule), return_exceptions=True
        )

    for round_ in range(8):
        word = f"shop{round_}"
        category = uuid.UUID(api.category(f"C{round_}"))
        outcomes = client.blocking_portal.call(both, category, word)
        assert sum(isinstance(o, DomainError) for o in outcomes) == 1, outcomes
        r = api.tx(account, "2026-01-02", f"{word} purchase", "-1.00")
        assert r.status_code == 201, r.text
