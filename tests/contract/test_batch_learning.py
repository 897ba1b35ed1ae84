"""A batch of corrections on PostgreSQL learns every row in a constant number of statements:
the word statistics, the payee memory and the rule-suggestion check of all its rows are read
at once and written in one batch each (before, each corrected row read its payee memory entry,
and each row whose payee reached the rule threshold asked for its suggestion: a round trip per
row)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core import NewAccount, NewCategory, NewTransaction, SignupRequest, Valorize
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.correct_category import CategoryCorrections
from valorize_core.use_cases.actions.create_transaction import SplitInput
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.list_rule_suggestions import RuleSuggestionsQuery

BATCHES = {  # six payees each: every one reaches the rule threshold within its batch
    "few": ["PADARIA REAL", "PIZZARIA BELLA", "UBER TRIP", "LIVRARIA CULTURA", "POSTO IPIRANGA", "FARMACIA SAO JOAO"],
    "many": ["CINEMARK", "NETFLIX COM", "SMART FIT", "DROGASIL", "COBASI", "SABESP AGUA"],
}


async def _uncategorized(vz: Valorize, t: UUID, account: UUID, texts: list[str], start: int) -> list[UUID]:
    out = []
    for i, text in enumerate(texts):
        day = date(2026, 1, 1) + timedelta(days=start + i)
        tx = await vz.create_transaction(
            NewTransaction(t, account, day, text, "-10.00", splits=(SplitInput("-10.00"),))
        )
        out.append(tx.id)
    return out


def test_a_batch_of_corrections_sends_as_many_statements_for_many_rows_as_for_few(
    pg_backend: PostgresBackend, statements: list[str]
) -> None:
    vz = pg_backend.app

    async def scene() -> tuple[int, int, int]:
        signup = await vz.signup(SignupRequest("Casa", f"bl-{time.time_ns()}@example.com", "Ana"))
        t = signup.tenant.id
        account = (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100.00"))).id
        food = (await vz.create_category(NewCategory(t, "Food", "expense"))).id
        other = (await vz.create_category(NewCategory(t, "Other", "expense"))).id
        counts = []
        for size, payees in ((4, BATCHES["few"]), (18, BATCHES["few"]), (60, BATCHES["many"])):
            # the first warms the pool's connection (pgvector version); the other two propose
            # the same number of rules (one per payee: each is corrected alike 3 and 10 times)
            texts = [f"{payees[i % len(payees)]} {i}" for i in range(size)]
            ids = await _uncategorized(vz, t, account, texts, size)
            pairs = tuple((tx_id, food if i % 2 else other) for i, tx_id in enumerate(ids))
            statements.clear()
            await vz.correct_categories(CategoryCorrections(t, pairs))
            counts.append(len(statements))
        assert len(await vz.list_rule_suggestions(RuleSuggestionsQuery(t))) == 12
        return counts[0], counts[1], counts[2]

    _, few, many = run(scene())
    assert many == few, (few, many)


@pytest.fixture
def learning_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The payee-word and payee-memory writes each round trip sends (deferred ones included)."""
    sent: list[str] = []
    method = Session._round_trip

    async def counted(self: Session, statements: Any) -> Any:
        for queued in self._deferred:
            merged = getattr(queued, "statement", None)  # a merged write: one statement
            query = str((merged() if merged else queued)[0])
            if query.startswith(("INSERT INTO payee_words", "INSERT INTO payee_memory")):
                sent.append(query[:40])
        return await method(self, statements)

    monkeypatch.setattr(Session, "_round_trip", counted)
    return sent


async def _learn_in_batches(vz: Valorize, ports: Ports, writes: list[str]) -> tuple[list[int], Any, Any]:
    """Two batches of 20 corrections and one moving 10 of their rows, the learning writes each
    sent, and what the tenant then knows of some words and payees."""
    signup = await vz.signup(SignupRequest("Casa", f"bw-{time.time_ns()}@example.com", "Ana"))
    t = signup.tenant.id
    account = (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100.00"))).id
    kinds = [(await vz.create_category(NewCategory(t, name, "expense"))).id for name in ("Food", "Fun", "Other")]
    names = {c: n for n, c in enumerate(kinds)}
    texts = [f"{BATCHES['many'][i % 6]} {i % 4}" for i in range(40)]
    ids = await _uncategorized(vz, t, account, texts, 0)
    counts = []
    for batch, shift in ((range(20), 0), (range(20, 40), 0), (range(10), 1)):
        # a payee's categories rotate over three (none reaches the rule threshold: a proposal is a
        # round trip); the third batch moves rows to another category (unlearning the first)
        pairs = tuple((ids[i], kinds[(i // 6 + shift) % 3]) for i in batch)
        writes.clear()
        await vz.correct_categories(CategoryCorrections(t, pairs))
        counts.append(len(writes))
    async with ports.uow(t) as uow:
        counted = await uow.payees.word_counts(["cinemark", "netflix", "com", "smart", "fit", "drogasil"])
        words = {w: {names[c]: n for c, n in by.items()} for w, by in counted.items()}
        entries = await uow.payees.get_many(sorted({e.payee_key for e in await uow.payees.all()}))
        memory = {k: [names[c] for c in e.recent] for k, e in entries.items()}
    return counts, words, memory


def test_a_batch_of_corrections_learns_its_words_and_payees_in_one_statement_each(
    pg_backend: PostgresBackend, learning_writes: list[str]
) -> None:
    """Not a statement per row (they were pipelined, but each ran on its own: ~0.2 ms of the
    database's CPU per row); the tenant learns what the memory backend learns row by row."""
    counts, words, memory = run(_learn_in_batches(pg_backend.app, pg_backend.ports, learning_writes))
    memory_backend = InMemoryBackend()
    _, in_memory_words, in_memory = run(_learn_in_batches(memory_backend.app, memory_backend.ports, []))
    assert counts[:2] == [2, 2], counts  # the third: learning and unlearning keep their order
    assert words == in_memory_words
    assert len(words) == 6
    assert memory == in_memory
    assert len(memory) == 6
