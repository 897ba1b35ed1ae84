"""A payee printed run together (``WEB *MEGAMARKET``) is read with the known words it joins: one
row of the joined word cannot make a payee of two categories look sure."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from world import World, run

from valorize_core import NewCategory, NewTransaction
from valorize_core.model.payee_words import ALL, WordStats, words
from valorize_core.model.transactions import Transaction
from valorize_core.model.word_parts import word_parts

FOOD, HOME = UUID(int=1), UUID(int=2)
STATS = WordStats({
    ALL: {FOOD: 10.0, HOME: 10.0, **{UUID(int=i): 10.0 for i in range(3, 12)}},
    "mega": {FOOD: 6.0, HOME: 4.0}, "market": {FOOD: 6.0, HOME: 4.0},
    "megamarket": {HOME: 1.0}, "uncle": {FOOD: 3.0}, "boons": {FOOD: 3.0},
    "web": {UUID(int=i): 1.0 for i in range(1, 12)},
})  # fmt: skip


def test_a_word_joined_from_two_known_payee_words_is_read_with_them() -> None:
    assert word_parts(words("WEB *MEGAMARKET 123"), STATS) == ("mega", "market")
    assert word_parts(words("PAYPAL *UNCLEBOONS"), STATS) == ("uncle", "boons")
    assert word_parts(words("MEGA MARKET"), STATS) == ()  # already apart
    assert word_parts(words("WEBMEGA"), STATS) == ()  # a part must be a payee's word, not the bank's
    assert word_parts(words("MEGAMARKETS"), STATS) == ()  # every letter must belong to a part
    assert word_parts(words("MEGAXYZ"), STATS) == ()


def add(w: World, text: str, amount: str, category: UUID | None = None, day: int = 0) -> Transaction:
    booked_on = date(2026, 1, 1) + timedelta(days=day)
    return run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, booked_on, text, amount,
                                                      category_id=category)))  # fmt: skip


def test_one_row_of_a_joined_mixed_payee_is_not_sure(world: World) -> None:
    made = [run(world.vz.create_category(NewCategory(world.tenant, f"Other {i}", "expense"))).id for i in range(3)]
    for i, category in enumerate(made):  # the bank's words, under many categories
        add(world, f"WEB PMT *LOJA{'ABC'[i]}", f"-{11 + 3 * i}.{i}7", category, day=i)
    for day in range(10):  # one marketplace, bought from for food and for the home
        add(world, "WEB PMT *MEGA MARKET", f"-{20 + day}.00", world.food if day < 6 else world.home, day=day)
    add(world, "WEB PMT *MEGAMARKET", "-300.00", world.home, day=20)  # printed run together, once
    again = add(world, "WEB PMT *MEGAMARKET", "-4.00", day=21)
    assert again.category_id is None
    assert "counted with 'mega', 'market', the words it prints run together" in again.categorization.explanation
