"""A payee's word that another payee shares (``VIKRI LEMVIK`` and ``VIKRI DROLEM``) does not make
the payee itself look mixed when the line's words are all the remembered payee's."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from world import World, run

from valorize_core import NewCategory, NewTransaction
from valorize_core.model.payee_share import payee_share
from valorize_core.model.payee_words import ALL, WordStats
from valorize_core.model.transactions import Transaction

FOOD, HOME = UUID(int=1), UUID(int=2)
STATS = WordStats({
    ALL: {FOOD: 10.0, HOME: 10.0, **{UUID(int=i): 10.0 for i in range(3, 12)}},
    "vikri": {FOOD: 5.0, HOME: 5.0}, "lemvik": {FOOD: 5.0}, "drolem": {HOME: 5.0},
    "walmart": {FOOD: 6.0, HOME: 4.0}, "supercenter": {FOOD: 6.0, HOME: 4.0},
})  # fmt: skip


def test_the_payee_s_most_exclusive_word_tells_how_mixed_the_payee_is() -> None:
    assert payee_share(("vikri", "lemvik"), "vikri lemvik", FOOD, STATS) == 5.5 / 6
    assert payee_share(("walmart", "supercenter"), "walmart supercenter", HOME, STATS) == 4.5 / 11  # mixed itself
    # a distinctive word of the line that the payee lacks: the line's own shares decide
    assert payee_share(("drolem", "lemvik"), "lemvik", FOOD, STATS) == 0.0
    assert payee_share((), "lemvik", FOOD, STATS) == 0.0


def add(w: World, text: str, amount: str, category: UUID | None = None, day: int = 0) -> Transaction:
    booked_on = date(2026, 1, 1) + timedelta(days=day)
    return run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, booked_on, text, amount,
                                                      category_id=category)))  # fmt: skip


def test_a_typo_of_a_payee_sharing_a_word_with_another_is_still_recognized(world: World) -> None:
    made = [run(world.vz.create_category(NewCategory(world.tenant, f"Other {i}", "expense"))).id for i in range(3)]
    for i, category in enumerate(made):  # the bank's words and the places, under many categories
        for place in ("DETROIT MI", "DALLAS TX"):
            add(world, f"CARD TXN LOJA{'ABC'[i]} {place}", f"-{11 + 3 * i}.{i}7", category, day=i)
    for day in range(6):
        add(world, "CARD TXN VIKRI LEMVIK DALLAS TX", f"-{20 + day}.00", world.food, day=day)
        add(world, "CARD TXN VIKRI DROLEM DALLAS TX", f"-{200 + day}.00", world.home, day=day)
    typo = add(world, "CARD TXN VIKRI LEMVKI DALLAS TX", "-23.00", day=10)
    assert typo.category_id == world.food
    assert typo.categorization.confidence >= world.vz.ports.categorizer.threshold
