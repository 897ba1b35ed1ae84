"""Concurrent edits of one rule: each PATCH changes only the fields it names. Two edits of
different fields at once (one disables a misfiring rule, the other renames it) both stick;
neither writes back what it read before the other committed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_core.actions.update_rule import RuleChanges


def test_two_edits_of_different_fields_of_one_rule_at_once_both_stick(api: Api, client: TestClient[Any]) -> None:
    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)
    conditions = {"match": "all", "conditions": [{"field": "description", "operator": "contains", "value": "x"}]}

    async def both(rule: uuid.UUID, name: str) -> list[Any]:
        edits = [RuleChanges(tenant, rule, enabled=False), RuleChanges(tenant, rule, name=name)]
        return await asyncio.gather(*(vz.update_rule(e) for e in edits))

    for round_ in range(8):
        r = api.post(
            "/api/rules", {"name": f"r{round_}", "conditions": conditions, "actions": [{"type": "add_tag", "tag": "x"}]}
        )
        assert r.status_code == 201, r.text
        rule = r.json()["id"]
        client.blocking_portal.call(both, uuid.UUID(rule), f"renamed {round_}")
        stored = next(x for x in api.get("/api/rules").json() if x["id"] == rule)
        assert (stored["name"], stored["enabled"]) == (f"renamed {round_}", False), stored
