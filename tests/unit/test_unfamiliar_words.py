"""A never-seen word beside a known payee's words, in a familiar line, names another payee; new
words around the payee (a new format) do not."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from world import World, run

from valorize_core import NewCategory, NewTransaction
from valorize_core.model.payee_words import ALL, WordStats, resolve, words
from valorize_core.model.transactions import Transaction
from valorize_core.model.unfamiliar_words import familiar_share, unfamiliar_words

FOOD, HOME, CAR = UUID(int=1), UUID(int=2), UUID(int=3)
STATS = WordStats({
    ALL: {FOOD: 10.0, HOME: 10.0, CAR: 10.0},
    "potu": {HOME: 10.0},  # a payee's word
    "lemar": {FOOD: 10.0},
    **{w: {FOOD: 10.0, HOME: 10.0, CAR: 10.0} for w in ("pgto", "debito", "detroit", "mi")},  # the bank's, a place
})  # fmt: skip


def novel(text: str) -> tuple[str, ...]:
    line = words(text)
    return unfamiliar_words(line, resolve(line, STATS, STATS.counts), STATS)


def test_a_new_word_beside_the_payee_in_a_familiar_line_is_another_name() -> None:
    assert novel("PGTO DEBITO POTU TULEM DETROIT MI") == ("tulem",)
    assert novel("PGTO DEBITO ARVIK POTU DETROIT MI 02/07") == ("arvik",)
    assert novel("PGTO DEBITO POTU BURGER BAR DETROIT MI") == ("burger", "bar")  # one run of two
    assert novel("POTU TULEM LEMAR") == ("tulem",)  # between two known payee words
    resolved = resolve(words("PGTO DEBITO POTU TULEM DETROIT MI"), STATS, STATS.counts)
    assert familiar_share(resolved, ("tulem",), STATS) == 0.5  # the payee's word weighs 1, the new one 1


def test_new_words_around_the_payee_are_a_new_format_not_a_new_name() -> None:
    assert novel("COMPRA INTERNACIONAL POTU TUCSON AZ 12/03") == ()  # a new prefix and a new place
    assert novel("BILLPAY POTU CONF 5849362624") == ()  # on both sides
    assert novel("MC DEBIT 17/04 POTU 7174 TAMPA FL") == ()  # apart from the payee
    assert novel("ARVIK POTU") == ()  # nothing familiar around: nothing says the format is known
    assert novel("PGTO DEBITO POTU DETROIT MI") == ()  # nothing new
    assert novel("PGTO DEBITO POTUU DETROIT MI") == ()  # a typo of the payee's word is that word
    assert novel("PGTO DEBITO POTU XY DETROIT MI") == ()  # two letters: a code, not a name
    assert novel("PGTO DEBITO TULEM DETROIT MI") == ()  # no known payee word: a new payee, said elsewhere
    resolved = resolve(words("PGTO DEBITO POTU DETROIT MI"), STATS, STATS.counts)
    assert familiar_share(resolved, (), STATS) == 1.0


def test_a_look_alike_resolves_the_same_whatever_the_order_of_the_vocabulary() -> None:
    stats = WordStats({ALL: {FOOD: 1.0, HOME: 1.0}, "nevk": {FOOD: 1.0}, "nevik": {HOME: 1.0}})
    line = words("SAIXNE NEIVK")  # one edit from both
    assert resolve(line, stats, ["nevk", "nevik"]) == resolve(line, stats, ["nevik", "nevk"])


def add(w: World, text: str, amount: str, category: UUID | None = None, day: int = 0) -> Transaction:
    booked_on = date(2026, 1, 1) + timedelta(days=day)
    return run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, booked_on, text, amount,
                                                      category_id=category)))  # fmt: skip


def test_a_new_payee_sharing_a_known_payees_word_waits_for_a_person(world: World) -> None:
    made = [run(world.vz.create_category(NewCategory(world.tenant, f"Other {i}", "expense"))).id for i in range(3)]
    for i, category in enumerate(made):  # the bank's words and the places, under many categories
        for place in ("DETROIT MI", "DALLAS TX"):
            add(world, f"PGTO DEBITO LOJA{'ABC'[i]} {place}", f"-{11 + 3 * i}.{i}7", category, day=i)
    for day in range(4):
        add(world, f"PGTO DEBITO POTU {('DETROIT MI', 'DALLAS TX')[day % 2]}", f"-{30 + day}.00", world.home, day=day)
    known = add(world, "PGTO DEBITO POTU DETROIT MI", "-41.00", day=10)
    assert known.category_id == world.home
    other = add(world, "PGTO DEBITO POTU TULEM DETROIT MI", "-42.00", day=11)
    assert other.category_id is None
    assert "'tulem' never seen beside its known words: it may name another payee" in other.categorization.explanation
    # a new format around the known payee (new words on both sides) is still the payee
    moved = add(world, "COMPRA INTERNACIONAL POTU TUCSON AZ", "-43.00", day=12)
    assert moved.category_id == world.home
