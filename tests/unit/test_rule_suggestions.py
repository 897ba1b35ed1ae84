"""Rule suggestions: proposed when a payee's corrections agree; accepted or dismissed."""

from __future__ import annotations

from datetime import date

import pytest
from world import World, run

from valorize_core import NewTransaction
from valorize_core.model.errors import Conflict
from valorize_core.model.events import RuleSuggested
from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.use_cases.actions.correct_category import CategoryCorrection
from valorize_core.use_cases.actions.decide_rule_suggestion import SuggestionDecision


def tx(w: World, text: str, **kw: object) -> object:
    return run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, date(2026, 11, 3), text, "-9.90", **kw)))  # type: ignore[arg-type]


def suggestions(w: World, status: SuggestionStatus | None = None) -> list[RuleSuggestion]:
    async def go() -> list[RuleSuggestion]:
        async with w.vz.ports.uow(w.tenant) as uow:
            return await uow.rule_suggestions.list(status)

    return run(go())


def correct(w: World, text: str, category: object) -> None:
    created = tx(w, text)
    run(w.vz.correct_category(CategoryCorrection(w.tenant, created.id, category)))  # type: ignore[attr-defined,arg-type]


def test_three_agreeing_corrections_propose_a_rule_once(world: World) -> None:
    correct(world, "PADARIA REAL 1234 03/11", world.food)
    correct(world, "PADARIA REAL 04/11", world.food)
    assert suggestions(world) == []
    correct(world, "Padaria Real", world.food)
    (proposed,) = suggestions(world)
    assert (proposed.payee_key, proposed.category_id, proposed.agreeing) == ("padaria real", world.food, 3)
    assert proposed.reason == "you put 'Padaria Real' in this category 3 of the last 3 times"
    announced = [e for e in world.backend.store.outbox if isinstance(e, RuleSuggested)]
    assert [e.payee for e in announced] == ["Padaria Real"]
    correct(world, "PADARIA REAL 05/11", world.food)
    assert len(suggestions(world)) == 1  # not twice


def test_accepting_creates_a_rule_that_categorizes_the_next_one(world: World) -> None:
    for n in range(3):
        correct(world, f"POSTO SHELL {n + 10}/11", world.home)
    (proposed,) = suggestions(world, SuggestionStatus.PENDING)
    accepted, rule = run(world.vz.accept_rule_suggestion(SuggestionDecision(world.tenant, proposed.id)))
    assert (accepted.status, accepted.rule_id) == (SuggestionStatus.ACCEPTED, rule.id)
    later = tx(world, "COMPRA CARTAO 9 POSTO SHELL 20/11")
    assert later.category_id == world.home  # type: ignore[attr-defined]
    assert later.categorization.source == "rule"  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        run(world.vz.dismiss_rule_suggestion(SuggestionDecision(world.tenant, proposed.id)))
    correct(world, "POSTO SHELL 21/11", world.home)
    assert len(suggestions(world)) == 1  # the rule exists: nothing new to propose


def test_a_dismissed_suggestion_is_not_proposed_again_but_a_new_category_is(world: World) -> None:
    for n in range(3):
        correct(world, f"MERCADO ZAFFARI {n}", world.food)
    (proposed,) = suggestions(world)
    dismissed = run(world.vz.dismiss_rule_suggestion(SuggestionDecision(world.tenant, proposed.id)))
    assert dismissed.status is SuggestionStatus.DISMISSED
    correct(world, "MERCADO ZAFFARI 9", world.food)
    assert len(suggestions(world)) == 1
    for n in range(3):  # the person changed their mind: groceries now
        correct(world, f"MERCADO ZAFFARI 2{n}", world.groceries)
    assert [s.category_id for s in suggestions(world, SuggestionStatus.PENDING)] == [world.groceries]
