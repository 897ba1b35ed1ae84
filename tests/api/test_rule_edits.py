"""Concurrent edits of one rule: each PATCH changes only the fields it names. Two edits of
different fields at once (one disables a misfiring rule, the other renames it) both stick;
neither writes back what it read before the other committed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_core.use_cases.actions.update_rule import RuleChanges


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


def test_a_suggestion_accepted_twice_at_once_makes_one_rule(api: Api, client: TestClient[Any]) -> None:
    """Accepting (or dismissing) reads the suggestion held: two decisions at once are one
    decision and a 409, never two rules from one suggestion, nor a rule whose suggestion
    reads dismissed."""
    from valorize_core.model.errors import Conflict
    from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
    from valorize_core.use_cases.actions.decide_rule_suggestion import SuggestionDecision

    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)

    async def suggest(category: uuid.UUID, payee: str) -> uuid.UUID:
        suggestion = RuleSuggestion(
            vz.ports.ids.new_id(), tenant, payee, category, 5, 5, SuggestionStatus.PENDING, vz.ports.clock.now()
        )
        async with vz.ports.uow(tenant) as uow:
            await uow.rule_suggestions.add(suggestion)
            await uow.commit()
        return suggestion.id

    async def twice(suggestion: uuid.UUID, second: str) -> list[Any]:
        decision = SuggestionDecision(tenant, suggestion)
        return await asyncio.gather(
            vz.accept_rule_suggestion(decision), getattr(vz, second)(decision), return_exceptions=True
        )

    for round_ in range(8):
        category = uuid.UUID(api.category(f"Shop{round_}"))
        second = "accept_rule_suggestion" if round_ % 2 == 0 else "dismiss_rule_suggestion"
        suggestion = client.blocking_portal.call(suggest, category, f"shop {round_}")
        before = len(api.get("/api/rules").json())
        outcomes = client.blocking_portal.call(twice, suggestion, second)
        assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
        made = len(api.get("/api/rules").json()) - before
        status = next(s for s in api.get("/api/rules/suggestions").json() if s["id"] == str(suggestion))["status"]
        assert made == (1 if status == "accepted" else 0), (status, made)
