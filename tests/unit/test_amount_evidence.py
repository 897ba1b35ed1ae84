"""The amount as learned evidence: a payee printed the same for two categories is told apart by
what was paid, and a recurring amount names its category when the line names no payee."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from world import World, run

from valorize_core import NewCategory, NewTransaction
from valorize_core.model.amount_words import amount_band, amount_evidence, amount_words, nearby_amount_words
from valorize_core.model.money import Money
from valorize_core.model.transactions import CategorizationSource, Transaction
from valorize_core.use_cases.actions.correct_category import CategoryCorrection


def add(w: World, text: str, amount: str, category: UUID | None = None, day: int = 0) -> Transaction:
    booked_on = date(2026, 1, 1) + timedelta(days=day)
    return run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, booked_on, text, amount,
                                                      category_id=category)))  # fmt: skip


def others(w: World) -> list[UUID]:
    """A tenant with a few more payees, so that bank words are learned as the bank's."""
    made = [run(w.vz.create_category(NewCategory(w.tenant, f"Other {i}", "expense"))).id for i in range(4)]
    for i, category in enumerate(made):
        for prefix in ("PIX ENVIADO", "COMPRA DEBITO"):
            add(w, f"{prefix} LOJA {'ABCD'[i]}", f"-{11 + 3 * i}.{i}7", category)
    return made


def test_bands_are_half_octaves_signed_and_keyed_by_currency() -> None:
    assert amount_band(Money(0, "BRL")) == 0
    assert amount_band(Money(-2000, "BRL")) == -22  # 1 + ⌊2·log2(2000)⌋ = 1 + ⌊21.93⌋
    assert amount_band(Money(-2100, "BRL")) == amount_band(Money(-2800, "BRL")) == -23  # 2048 to 2896
    assert amount_band(Money(-2900, "BRL")) == -24
    assert amount_band(Money(2000, "BRL")) == 22  # a refund is not a purchase
    assert amount_words("marketplace", Money(-2000, "BRL")) == ("marketplace|BRL-22", "=BRL-2000")
    assert nearby_amount_words("marketplace", Money(-2000, "BRL")) == (
        "marketplace|BRL-23", "marketplace|BRL-22", "marketplace|BRL-21", "=BRL-2000",
    )  # fmt: skip
    assert nearby_amount_words("", Money(-2000, "USD")) == ("=USD-2000",)
    assert all(len(w) <= 100 for w in amount_words("x" * 200, Money(-2000, "BRL")))


def test_an_amount_seen_once_or_twice_is_a_coincidence() -> None:
    food, home = UUID(int=1), UUID(int=2)
    once = amount_evidence("", Money(-990, "BRL"), {"=BRL-990": {food: 1.0}})
    assert once.recurring_confidence(food)[0] == 0.0
    twice = amount_evidence("", Money(-990, "BRL"), {"=BRL-990": {food: 2.0}})
    assert twice.recurring_confidence(food)[0] == 0.5  # below the threshold on its own
    monthly = amount_evidence("", Money(-990, "BRL"), {"=BRL-990": {food: 24.0}})
    assert monthly.recurring_confidence(food)[0] > 0.9
    mixed = amount_evidence("", Money(-990, "BRL"), {"=BRL-990": {food: 4.0, home: 4.0}})
    assert mixed.recurring_confidence(food)[0] < 0.55


def test_a_payee_printed_the_same_for_two_categories_is_told_apart_by_its_amount(world: World) -> None:
    others(world)
    for i in range(6):  # the same marketplace text: small meals and large household purchases
        add(world, "PIX ENVIADO MARKETPLACE BR", f"-{18 + i}.{i}0", world.food, day=2 * i)
        add(world, "PIX ENVIADO MARKETPLACE BR", f"-{150 + 9 * i}.{i}5", world.home, day=2 * i + 1)
    large = add(world, "PIX ENVIADO MARKETPLACE BR", "-161.30", day=40)
    assert large.category_id == world.home
    assert large.categorization.confidence >= Decimal("0.55")
    assert "at about -161.30 BRL" in large.categorization.explanation
    small = add(world, "PIX ENVIADO MARKETPLACE BR", "-21.40", day=41)
    assert small.category_id == world.food
    # in between, the amount says nothing either way: the row stays for a person, explained
    between = add(world, "PIX ENVIADO MARKETPLACE BR", "-58.00", day=42)
    assert between.category_id is None
    assert "threshold" in between.categorization.explanation


def test_a_recurring_amount_names_its_category_when_the_line_names_no_payee(world: World) -> None:
    others(world)
    for month in range(4):
        add(world, "PIX ENVIADO IMOBILIARIA SOL", "-2400.00", world.home, day=30 * month)
    cut = add(world, "PIX ENVIADO", "-2400.00", day=130)  # the line cut before the payee
    assert cut.category_id == world.home
    assert cut.categorization.source is CategorizationSource.MEMORY
    assert "4 of 4 of your labeled rows of exactly -2400.00 BRL" in cut.categorization.explanation
    # an amount one labeled row had is a coincidence, not a bill: the row waits, and says why
    once = add(world, "PIX ENVIADO", "-11.07", day=131)
    assert once.category_id is None
    assert "no distinctive word names a payee" in once.categorization.explanation
    # a payee the words name keeps its category though its amount is the rent's
    add(world, "PIX ENVIADO PADARIA REAL", "-9.90", world.food, day=132)
    add(world, "PIX ENVIADO PADARIA REAL", "-8.90", world.food, day=133)
    bread = add(world, "PIX ENVIADO PADARIA REAL", "-2400.00", day=134)
    assert bread.category_id == world.food


def test_a_correction_takes_back_what_the_amount_taught(world: World) -> None:
    others(world)
    rows = [add(world, "PIX ENVIADO IMOBILIARIA SOL", "-2400.00", world.home, day=30 * m) for m in range(3)]
    for tx in rows:  # the person moves every one of them to another category
        run(world.vz.correct_category(CategoryCorrection(world.tenant, tx.id, world.groceries)))

    async def counts() -> dict[str, dict[UUID, float]]:
        async with world.vz.ports.uow(world.tenant) as uow:
            return await uow.payees.word_counts(["=BRL-240000"])

    assert run(counts()) == {"=BRL-240000": {world.groceries: 3.0}}
