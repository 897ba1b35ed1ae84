"""The categorizer's decisions: calibrated for every source, explained, learning from people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from world import World, run

from valorize_core import NewCategory, NewTransaction
from valorize_core.model.money import Money
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.actions.correct_category import CategoryCorrection
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_core.use_cases.queries.suggest_categories import SuggestionQuery


def add(w: World, text: str, category: UUID | None = None) -> Transaction:
    return run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, date(2026, 11, 3), text, "-9.90",
                                                      category_id=category)))  # fmt: skip


def correct(w: World, tx: Transaction, category: UUID) -> Transaction:
    return run(w.vz.correct_category(CategoryCorrection(w.tenant, tx.id, category)))


def word_counts(w: World, *words: str) -> dict[str, dict[UUID, float]]:
    async def read() -> dict[str, dict[UUID, float]]:
        async with w.vz.ports.uow(w.tenant) as uow:
            return await uow.payees.word_counts(words)

    return run(read())


def many_categories(w: World, n: int) -> list[UUID]:
    return [run(w.vz.create_category(NewCategory(w.tenant, f"Category {i}", "expense"))).id for i in range(n)]


def test_memory_below_the_threshold_categorizes_nothing_and_says_why(world: World) -> None:
    for i, category in enumerate(many_categories(world, 4)):  # a tenant with a few other payees
        add(world, f"LOJA NUMERO {'ABCD'[i]}", category)
    # the person keeps changing their mind about this payee: two of four times each
    for category in (world.food, world.home, world.food, world.home):
        add(world, "MERCADO DO ZE", category)
    tx = add(world, "MERCADO DO ZE")
    assert tx.category_id is None
    why = tx.categorization.explanation
    assert "threshold" in why
    assert "2 of the last 4 times" in why
    suggestions = run(world.vz.suggest_categories(SuggestionQuery(world.tenant, tx.id)))
    assert {s.category_id for s in suggestions[:2]} == {world.food, world.home}
    assert all(s.confidence < Decimal("0.55") for s in suggestions)


def test_confidence_grows_with_agreeing_observations_and_one_is_not_certain(world: World) -> None:
    confidences = []
    for _ in range(4):
        add(world, "PADARIA REAL", world.food)
        (best,) = run(world.vz.suggest_categories(SuggestionQuery(world.tenant, add(world, "PADARIA REAL").id, 1)))
        confidences.append(best.confidence)
    assert confidences == sorted(confidences)
    assert len(set(confidences)) == 4
    assert confidences[0] < Decimal("0.9")


def test_a_bank_prefix_never_listed_in_code_is_learned_and_stripped(world: World) -> None:
    categories = many_categories(world, 6)
    for i, payee in enumerate(["ALFA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"]):
        for place in ("QUUXVILLE", "ZORPTOWN"):
            add(world, f"ZELLO PMT {payee} STORES {place}", categories[i])
    tx = add(world, "ZELLO PMT CHARLIE STORES FROBCITY 7781")
    assert tx.category_id == categories[2]
    assert "charlie" in tx.categorization.explanation.lower()
    # cut right after the bank's words: nothing names a payee, and the explanation says so
    cut = add(world, "ZELLO PMT")
    assert cut.category_id is None
    assert "no distinctive word" in cut.categorization.explanation


def test_a_typo_and_a_truncated_payee_find_their_payee(world: World) -> None:
    categories = many_categories(world, 4)
    for i, payee in enumerate(["FARMER FRESH", "EDISON POWER", "VERIZON WIRELESS", "RIVERBANK PROPERTIES"]):
        for prefix in ("POS PURCHASE", "DEBIT CARD", "ACH DEBIT"):
            add(world, f"{prefix} {payee}", categories[i])
    typo = add(world, "ACH DEBIT EDISON POWRE")
    assert typo.category_id == categories[1]
    assert "you categorized 'edison power'" in typo.categorization.explanation  # the memory, found tolerantly
    assert "matched at" in typo.categorization.explanation
    assert add(world, "POS PURCHASE RIVERBANK PROP").category_id == categories[3]


def test_a_confirmed_automatic_category_teaches_at_a_lower_weight(world: World) -> None:
    add(world, "PADARIA REAL", world.food)
    auto = add(world, "PADARIA REAL")
    assert (auto.category_id, auto.categorization.source) == (world.food, "memory")
    assert word_counts(world, "padaria") == {"padaria": {world.food: 1.0}}
    correct(world, auto, world.food)  # the person confirms it
    assert word_counts(world, "padaria") == {"padaria": {world.food: 1.5}}
    left = add(world, "PADARIA REAL")
    reconciled = run(world.vz.update_transaction(TransactionChanges(world.tenant, left.id, status="reconciled")))
    assert reconciled.category_id == world.food  # left as it was
    assert word_counts(world, "padaria") == {"padaria": {world.food: 2.0}}


def test_moving_a_row_takes_back_what_its_old_category_taught(world: World) -> None:
    tx = add(world, "LOJA DO BAIRRO", world.food)
    assert word_counts(world, "loja") == {"loja": {world.food: 1.0}}
    correct(world, tx, world.home)
    assert word_counts(world, "loja") == {"loja": {world.home: 1.0}}


def test_every_outcome_is_explained(world: World) -> None:
    add(world, "PADARIA REAL", world.food)
    outcomes: list[Any] = [add(world, text) for text in ("PADARIA REAL", "NUNCA VISTO", "12/03 4455")]
    assert all(t.categorization.explanation for t in outcomes)
    assert "nothing learned yet resembles it" in outcomes[1].categorization.explanation
    assert "only numbers" in outcomes[2].categorization.explanation


def test_an_import_reads_the_word_statistics_once_per_new_word_not_per_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from valorize_adapters.memory.repositories import MemoryPayees

    add(world, "PADARIA REAL", world.food)
    asked: list[tuple[str, ...]] = []
    original = MemoryPayees.word_counts

    async def counting(self: MemoryPayees, words: Sequence[str]) -> dict[str, dict[UUID, float]]:
        asked.append(tuple(words))
        return await original(self, words)

    monkeypatch.setattr(MemoryPayees, "word_counts", counting)
    rows = tuple(
        StatementRow(i, date(2026, 11, 3), f"PADARIA REAL {i:04d}", Money.parse("-9.90", "BRL")) for i in range(1, 41)
    )
    run(world.vz.import_statement(StatementUpload(world.tenant, world.checking, "s.csv", ParsedStatement(rows, ()))))
    assert 1 <= len(asked) <= 3  # 40 rows, the same words: read once, not twice per row


def test_one_observation_is_counted_once_not_again_by_its_own_neighbour_rows(world: World) -> None:
    for i, category in enumerate(many_categories(world, 4)):  # a tenant with a few other payees
        add(world, f"LOJA NUMERO {'ABCD'[i]}", category)
    add(world, "PADARIA REAL", world.food)
    (one,) = run(world.vz.suggest_categories(SuggestionQuery(world.tenant, add(world, "PADARIA REAL").id, 1)))
    # the memory's 1 of 1 (with one pseudo-observation against: 0.75); the labeled row the
    # neighbours find is that same observation and adds nothing
    assert (one.category_id, one.confidence) == (world.food, Decimal("0.750"))
    assert "1 of them the memory's own" in one.explanation
    add(world, "PADARIA REAL", world.food)  # a second, independent observation
    (two,) = run(world.vz.suggest_categories(SuggestionQuery(world.tenant, add(world, "PADARIA REAL").id, 1)))
    assert two.confidence == Decimal("0.833")  # 2 of 2


def test_rows_of_another_key_that_agree_reinforce_the_memory(world: World) -> None:
    for i, category in enumerate(many_categories(world, 4)):
        add(world, f"LOJA NUMERO {'ABCD'[i]}", category)
    add(world, "PADARIA REAL", world.food)
    add(world, "PADARIA REAL CENTRO", world.food)  # another key, near: independent evidence
    (best,) = run(world.vz.suggest_categories(SuggestionQuery(world.tenant, add(world, "PADARIA REAL").id, 1)))
    assert best.category_id == world.food
    assert Decimal("0.75") < best.confidence < Decimal("0.9")


def test_a_new_payee_sharing_one_word_with_a_known_one_is_not_taken_for_it(world: World) -> None:
    categories = many_categories(world, 5)
    for i, payee in enumerate(["RIGA DROPO", "KAVA MELTON", "SORBA LUNIK", "TEPLO VARNA", "GROMA PESKI"]):
        for prefix in ("POS PURCHASE", "DEBIT CARD", "ACH DEBIT"):
            add(world, f"{prefix} {payee}", categories[i])
    # a different payee whose name shares one word, and some letters of another, with RIGA DROPO
    tx = add(world, "POS PURCHASE DROPOLEM RIGA")
    assert tx.category_id is None, tx.categorization.explanation
    # a typo of the known payee still finds it
    assert add(world, "DEBIT CARD RIGA DROPP").category_id == categories[0]
