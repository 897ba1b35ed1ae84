"""User-supplied patterns run on RE2: linear time, and what RE2 refuses is said so."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from world import World, run

from valorize_adapters.patterns import default_pattern_engine
from valorize_adapters.patterns.re2 import Re2Engine
from valorize_core import NewRule
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.patterns import NO_PATTERN_ENGINE, StoredPatterns
from valorize_core.model.rules import Condition, ConditionGroup, Rule, SetCategory, apply_rules, condition_from_data
from valorize_core.model.transactions import Split, Transaction
from valorize_core.use_cases.actions.apply_rules import RetroactiveApply

RE2 = Re2Engine()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TENANT, FOOD = uuid.uuid4(), uuid.uuid4()

# Each pattern with a text that makes a backtracking engine try every way to match it.
CATASTROPHIC = [
    (r"(a|a)+$", "a" * 10_000 + "!"),
    (r"(a|aa)*$", "a" * 10_000 + "!"),
    (r"(\w|\d)*$", "1" * 10_000 + "!"),
    (r"((a+))+$", "a" * 10_000 + "!"),
    (r"(.*a){20}", "a" * 19 + "b" * 9_981),
]


def tx(description: str) -> Transaction:
    value = Money(-2500, "BRL")
    return Transaction(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        account_id=uuid.uuid4(),
        booked_on=date(2026, 3, 10),
        description=description,
        payee="",
        amount=value,
        splits=(Split(None, value),),
        created_at=NOW,
        updated_at=NOW,
    )


def rule(*members: Condition) -> Rule:
    return Rule(uuid.uuid4(), TENANT, "r", 0, ConditionGroup("all", members), (SetCategory(FOOD),), NOW)  # type: ignore[arg-type]


async def seed(world: World, n: int) -> None:
    """``n`` transactions straight through the ports (a use case per row would take minutes)."""
    ports, amount = world.backend.ports, Money(-100, "BRL")
    now = ports.clock.now()
    rows = [
        Transaction(
            id=ports.ids.new_id(),
            tenant_id=world.tenant,
            account_id=world.checking,
            booked_on=date(2026, 1, 1 + i % 28),
            description=f"UBER TRIP {i}",
            payee="Uber",
            amount=amount,
            splits=(Split(None, amount),),
            created_at=now,
            updated_at=now,
        )
        for i in range(n)
    ]
    async with ports.uow(world.tenant) as uow:
        await uow.transactions.add_many(rows)
        await uow.accounts.apply_balance_delta(world.checking, amount.minor * n)
        await uow.commit()


@pytest.mark.parametrize(("pattern", "text"), CATASTROPHIC)
def test_catastrophic_patterns_finish_in_milliseconds(pattern: str, text: str) -> None:
    condition = Condition("description", "regex", pattern, patterns=RE2)
    assert condition.compiled is not None
    longest = tx(text[-500:])  # a transaction's description is at most 500 characters
    started = time.perf_counter()
    condition.compiled.search(text)
    condition.evaluate(longest)
    apply_rules([rule(condition)], longest)
    # A guard against exponential time, not a benchmark: a backtracking engine never finishes.
    assert time.perf_counter() - started < 0.5


def test_patterns_match_case_insensitively_on_the_raw_text() -> None:
    assert Condition("description", "regex", r"^padaria\s+são", patterns=RE2).evaluate(tx("PADARIA SÃO JOÃO"))
    assert not Condition("description", "regex", r"^sao", patterns=RE2).evaluate(tx("São João"))
    assert Condition("description", "regex", r"uber|99", negate=True, patterns=RE2).evaluate(tx("taxi"))


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"(uber)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"(?<x>a)\k<x>", "backreferences"),
        (r"uber(?= trip)", "lookahead"),
        (r"uber(?! eats)", "negative lookahead"),
        (r"(?<=\*)trip", "lookbehind"),
        (r"(?<!x)uber", "negative lookbehind"),
        (r"(?>uber)", "not supported"),
        (r"(uber", "invalid regular expression"),
        (r"a{1001}", "invalid regular expression"),
    ],
)
def test_syntax_re2_does_not_take_is_refused_by_name(pattern: str, named: str) -> None:
    with pytest.raises(ValidationError) as err:
        Condition("description", "regex", pattern, patterns=RE2)
    assert err.value.errors[0].field == "value"
    assert named in err.value.errors[0].message
    with pytest.raises(ValidationError) as err:
        condition_from_data({"field": "payee", "operator": "regex", "value": pattern}, patterns=RE2)
    assert err.value.errors[0].field == "conditions.value"


@given(st.text(max_size=60), st.text(max_size=200))
@example("\ud800", "a")  # lone surrogates: UTF-8, which RE2 works on, cannot encode them
@example("a", "\ud800a")
def test_any_pattern_compiles_or_is_a_validation_error(pattern: str, text: str) -> None:
    """Whatever a client sends (lone surrogates included), never an error a 500 would come from."""
    try:
        compiled = RE2.compile(pattern, ignore_case=True)
    except ValidationError:
        return
    assert compiled.search(text) in (True, False)


def test_without_an_engine_regexes_are_refused_never_run_on_backtracking_re() -> None:
    with pytest.raises(ValidationError, match="linear-time pattern engine"):
        Condition("description", "regex", "^uber")
    with pytest.raises(ValidationError, match="linear-time pattern engine"):
        condition_from_data({"field": "description", "operator": "regex", "value": "^uber"})
    with pytest.raises(ValidationError, match="linear-time pattern engine"):
        NO_PATTERN_ENGINE.compile("x")
    assert Condition("description", "contains", "uber").evaluate(tx("UBER *TRIP"))  # the rest needs no engine
    assert isinstance(default_pattern_engine(), Re2Engine)  # installed here


@pytest.mark.parametrize("engine", [RE2, NO_PATTERN_ENGINE])
def test_a_stored_pattern_the_engine_refuses_still_loads_and_never_fires(engine: object) -> None:
    stored = {
        "match": "all",
        "conditions": [{"field": "description", "operator": "regex", "value": r"uber(?= trip)", "negate": True}],
    }
    tree = condition_from_data(stored, patterns=StoredPatterns(engine))  # type: ignore[arg-type]
    assert isinstance(tree, ConditionGroup)
    (condition,) = tree.members
    assert isinstance(condition, Condition)
    assert condition.value == r"uber(?= trip)"
    assert not condition.runnable
    assert "not run" in condition.describe()
    loaded = Rule(uuid.uuid4(), TENANT, "old", 0, tree, (SetCategory(FOOD),), NOW)
    assert not loaded.runnable()
    # Negated, the unusable condition would hold for every transaction: the rule must not run at all.
    assert not apply_rules([loaded], tx("taxi")).matches


def test_stored_patterns_the_engine_takes_load_runnable() -> None:
    stored = {"match": "all", "conditions": [{"field": "description", "operator": "regex", "value": "^uber"}]}
    tree = condition_from_data(stored, patterns=StoredPatterns(RE2))
    loaded = Rule(uuid.uuid4(), TENANT, "r", 0, tree, (SetCategory(FOOD),), NOW)  # type: ignore[arg-type]
    assert loaded.runnable()
    assert apply_rules([loaded], tx("UBER *TRIP")).transaction.category_id == FOOD
    assert tree == condition_from_data(stored, patterns=RE2)


def test_a_retroactive_apply_hands_the_event_loop_back(world: World) -> None:
    """Other tasks run while rules go through many transactions, not only after."""
    group = ConditionGroup("all", (Condition("description", "regex", r"(\w|\d)*$", patterns=RE2),))
    run(world.vz.create_rule(NewRule(world.tenant, "all", group, (SetCategory(world.food),))))
    run(seed(world, 20_000))

    async def apply_while_ticking() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)
        before = ticks
        result = await world.vz.apply_rules(RetroactiveApply(world.tenant))
        during = ticks - before
        ticker.cancel()
        return during, result.changed

    during, changed = run(apply_while_ticking())
    assert changed == 20_000
    assert during > 10


def test_a_pattern_whose_automaton_is_too_large_to_run_quickly_is_refused() -> None:
    """RE2 is linear in the text, but its constant is the automaton's: ``(\\pL|\\pN){1,90}\\pZ{1,90}x``
    (25 characters) compiles to 122,583 instructions, overflows RE2's DFA and falls back to its
    NFA: 1.3-2 ms per 500-character description, per condition, per rule, on every write. A
    program over ``MAX_PROGRAM_SIZE`` is refused; realistic patterns are far below it."""
    from valorize_adapters.patterns.re2 import MAX_PROGRAM_SIZE

    engine = Re2Engine()
    with pytest.raises(ValidationError, match="too complex"):
        engine.compile(r"(\pL|\pN){1,90}\pZ{1,90}x", ignore_case=True)
    for realistic in (
        r"[\pL\pN]{2,30}",
        r"\w{1,200}",
        r"^(pix|ted|doc)\s+.{1,100}",
        r"\bPIX\b.*\b(recebido|enviado)\b",
    ):
        assert engine.compile(realistic, ignore_case=True).search("PIX recebido de Ana") in (True, False)
    assert MAX_PROGRAM_SIZE >= 50_000


def test_a_tenants_rules_hold_a_bounded_number_of_patterns(world: World) -> None:
    """Every write runs every rule's patterns on the event loop: without a bound across the
    tenant's rules, 20 rules of 50 patterns made one write take 1.3 s for every tenant of the
    process (200 rules: 13 s). Creating or changing a rule past ``MAX_TENANT_PATTERNS`` is a 422."""
    from valorize_core.model.rules import MAX_CONDITIONS, MAX_TENANT_PATTERNS
    from valorize_core.use_cases.actions.update_rule import RuleChanges

    def patterns(n: int) -> ConditionGroup:
        return ConditionGroup(
            "any", tuple(Condition("description", "regex", f"shop{i}", patterns=RE2) for i in range(n))
        )

    def create(name: str, group: ConditionGroup) -> Rule:
        return run(world.vz.create_rule(NewRule(world.tenant, name, group, (SetCategory(world.food),))))

    full, rest = divmod(MAX_TENANT_PATTERNS, MAX_CONDITIONS)
    rules = [create(f"r{i}", patterns(MAX_CONDITIONS)) for i in range(full)]
    if rest:
        rules.append(create("rest", patterns(rest)))
    world.fails_cleanly(
        world.vz.create_rule(NewRule(world.tenant, "one more", patterns(1), (SetCategory(world.food),)))
    )
    create("no pattern", ConditionGroup("all", (Condition("description", "contains", "shop"),)))  # others are free
    run(world.vz.update_rule(RuleChanges(world.tenant, rules[-1].id, name="renamed")))  # its own count once
    run(world.vz.update_rule(RuleChanges(world.tenant, rules[0].id, conditions=patterns(MAX_CONDITIONS))))
