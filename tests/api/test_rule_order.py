"""Rules keep a dense order a person can read: positions ``0 … n-1``, one rule each. Moving a
rule to a place shifts the rules from there on by one; creating one at a place does the same;
deleting one closes the gap. Concurrent reorderings on PostgreSQL never leave two rules on one
place nor a hole."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_core.model.errors import NotFound
from valorize_core.model.rules import AddTag, ConditionGroup
from valorize_core.model.rules.codec import condition_from_data
from valorize_core.use_cases.actions.create_rule import NewRule
from valorize_core.use_cases.actions.delete_rule import RuleDeletion
from valorize_core.use_cases.actions.update_rule import RuleChanges

CONDITIONS = {"match": "all", "conditions": [{"field": "description", "operator": "contains", "value": "mercado"}]}


def _rule(api: Api, name: str, **extra: Any) -> str:
    body = {"name": name, "conditions": CONDITIONS, "actions": [{"type": "add_tag", "tag": name}], **extra}
    r = api.post("/api/rules", body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _order(api: Api) -> list[tuple[str, int]]:
    return [(r["name"], r["position"]) for r in api.get("/api/rules").json()]


def test_moving_a_rule_to_the_top_shifts_the_others_down(api: Api) -> None:
    for name in ("a", "b", "c", "d"):
        _rule(api, name)
    moved = next(r["id"] for r in api.get("/api/rules").json() if r["name"] == "c")
    r = api.patch(f"/api/rules/{moved}", {"position": 0})
    assert r.status_code == 200, r.text
    assert r.json()["position"] == 0
    assert _order(api) == [("c", 0), ("a", 1), ("b", 2), ("d", 3)]
    # Down again, and past the end means last.
    assert api.patch(f"/api/rules/{moved}", {"position": 2}).status_code == 200
    assert _order(api) == [("a", 0), ("b", 1), ("c", 2), ("d", 3)]
    assert api.patch(f"/api/rules/{moved}", {"position": 99}).json()["position"] == 3
    assert _order(api) == [("a", 0), ("b", 1), ("d", 2), ("c", 3)]


def test_the_moved_rule_runs_first(api: Api) -> None:
    """Two rules set the tag for "mercado"; the one moved to the top runs first, so the other
    (later, ``set_category`` wins last) decides — and the preview shows the run order."""
    account = api.account()
    food, home = api.category("Food"), api.category("Home")
    for name, category in (("food", food), ("home", home)):
        r = api.post("/api/rules", {"name": name, "conditions": CONDITIONS,
                                    "actions": [{"type": "set_category", "category_id": category}]})  # fmt: skip
        assert r.status_code == 201, r.text
    home_rule = next(r["id"] for r in api.get("/api/rules").json() if r["name"] == "home")
    assert api.patch(f"/api/rules/{home_rule}", {"position": 0}).status_code == 200
    tx = api.tx(account, "2026-11-03", "MERCADO CENTRAL", "-12.00")
    assert tx.status_code == 201, tx.text
    assert tx.json()["splits"][0]["category_id"] == food  # home ran first, food after it


def test_creating_at_a_place_shifts_and_deleting_closes_the_gap(api: Api) -> None:
    for name in ("a", "b", "c"):
        _rule(api, name)
    _rule(api, "top", position=0)
    _rule(api, "mid", position=2)
    assert _order(api) == [("top", 0), ("a", 1), ("mid", 2), ("b", 3), ("c", 4)]
    a = next(r["id"] for r in api.get("/api/rules").json() if r["name"] == "a")
    assert api.delete(f"/api/rules/{a}").status_code == 204
    assert _order(api) == [("top", 0), ("mid", 1), ("b", 2), ("c", 3)]


def test_concurrent_creates_moves_and_deletes_keep_a_dense_unique_order(api: Api, client: TestClient[Any]) -> None:
    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)
    ids = [uuid.UUID(_rule(api, f"r{i}")) for i in range(6)]
    conditions = condition_from_data(CONDITIONS, patterns=vz.ports.patterns)
    assert isinstance(conditions, ConditionGroup)
    rng = random.Random(23)

    async def one(step: int) -> Any:
        kind = step % 4
        if kind == 3:
            return await vz.delete_rule(RuleDeletion(tenant, rng.choice(ids)))
        if kind == 2:
            return await vz.create_rule(
                NewRule(tenant, f"n{step}", conditions, (AddTag("n"),), position=rng.randrange(4))
            )
        return await vz.update_rule(RuleChanges(tenant, rng.choice(ids), position=rng.randrange(8)))

    async def burst(round_: int) -> list[Any]:
        return await asyncio.gather(*(one(round_ * 8 + s) for s in range(8)), return_exceptions=True)

    for round_ in range(4):
        outcomes = client.blocking_portal.call(burst, round_)
        # A rule deleted by one call is gone for another: that call's 404 is the only refusal.
        assert all(o is None or not isinstance(o, BaseException) or isinstance(o, NotFound) for o in outcomes), outcomes
        positions = [r["position"] for r in api.get("/api/rules").json()]
        assert positions == list(range(len(positions))), positions


def test_uncategorized_leaves_transfer_legs_out(api: Api) -> None:
    """A transfer moves money between the tenant's own accounts; its legs need no category, so
    the list of what still needs one does not show them (nor does a categorize job take them)."""
    checking, savings = api.account("Checking"), api.account("Savings")
    plain = api.tx(checking, "2026-11-04", "PADARIA", "-8.00")
    assert plain.status_code == 201, plain.text
    transfer = api.post("/api/transfers", {"from_account_id": checking, "to_account_id": savings,
                                           "amount": "50.00", "booked_on": "2026-11-05"})  # fmt: skip
    assert transfer.status_code == 201, transfer.text
    listed = api.get("/api/transactions", params={"uncategorized": "true"}).json()["items"]
    assert [t["id"] for t in listed] == [plain.json()["id"]]
    assert len(api.get("/api/transactions").json()["items"]) == 3
