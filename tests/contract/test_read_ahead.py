"""An import on PostgreSQL reads the categorizer's lookups ahead: one read of the payee memory
and one neighbour search for the whole statement, so the statements it sends do not grow with
its rows (before, each new row cost a payee lookup and a neighbour search, two round trips)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_adapters.postgres.vector_index import PgExamples
from valorize_core import NewAccount, NewCategory, NewTransaction, SignupRequest, TransactionQuery
from valorize_core.app import Valorize
from valorize_core.model.money import Money
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.model.transactions import CategorizationSource
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.queries.suggest_categories import SuggestionsQuery

TAUGHT = {"Food": ["PADARIA REAL", "PIZZARIA BELLA", "RESTAURANTE SABOR"], "Transport": ["UBER TRIP", "POSTO SHELL"]}
NEW = ["PADARIA REAL", "PIZZARIA NAPOLI", "UBER TRIP", "LIVRARIA CULTURA", "POSTO IPIRANGA", "RESTAURANTE SABOR"]


async def taught_tenant(vz: Valorize, email: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A new tenant (signed up as ``email``) and its checking account, whose history taught the
    categorizer the ``TAUGHT`` payees: one transaction each, in its category."""
    signup = await vz.signup(SignupRequest("Casa", email, "Ana"))
    t = signup.tenant.id
    account = (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100.00"))).id
    for name, payees in TAUGHT.items():
        category = (await vz.create_category(NewCategory(t, name, "expense"))).id
        for i, payee in enumerate(payees):
            day = date(2026, 1, 1) + timedelta(days=i)
            await vz.create_transaction(NewTransaction(t, account, day, payee, "-10.00", category_id=category))
    return t, account


def test_an_import_sends_as_many_statements_for_many_rows_as_for_few(
    pg_backend: PostgresBackend, statements: list[str]
) -> None:
    vz = pg_backend.app

    async def scene() -> list[tuple[int, int]]:
        t, account = await taught_tenant(vz, f"ra-{time.time_ns()}@example.com")
        measured = []
        for size in (3, 12, 60):  # the first also detects the pgvector version, once per pool
            rows = tuple(
                StatementRow(
                    i + 2,
                    date(2026, 3, 1) + timedelta(days=size + i),
                    f"{NEW[i % len(NEW)]} {i}",
                    Money(-(100 + 7 * i + size), "BRL"),
                )
                for i in range(size)
            )
            statements.clear()
            record = await vz.import_statement(StatementUpload(t, account, f"s{size}.csv", ParsedStatement(rows, ())))
            assert record.imported == size
            learned = [
                tx
                for tx in (await vz.list_transactions(TransactionQuery(t, import_id=record.id, limit=100))).items
                if tx.categorization.source in (CategorizationSource.MEMORY, CategorizationSource.NEIGHBOURS)
            ]
            measured.append((len(statements), len(learned)))
        return measured

    _, (few, few_learned), (many, many_learned) = run(scene())
    assert few_learned > 0  # memory and neighbours did decide rows
    assert many_learned > 0
    assert many == few, (few, many)


def test_suggestions_for_many_rows_send_as_many_statements_as_for_few(
    pg_backend: PostgresBackend, statements: list[str]
) -> None:
    vz = pg_backend.app

    async def scene() -> list[int]:
        t, account = await taught_tenant(vz, f"rs-{time.time_ns()}@example.com")
        ids = [
            (await vz.create_transaction(NewTransaction(t, account, date(2026, 2, 1), f"{NEW[i % 6]} {i}", "-1.00"))).id
            for i in range(40)
        ]
        sent = []
        for size in (1, 10, 40):
            statements.clear()
            found = await vz.suggest_categories_many(SuggestionsQuery(t, tuple(ids[:size])))
            assert len(found) == size
            sent.append(len(statements))
        return sent

    _, few, many = run(scene())
    # Not one more per row: 30 more rows would be 30 more reads. The categorizer may read the
    # word statistics of a neighbour's words it had not met once more (1 or 2 reads, whatever
    # the batch's size).
    assert many <= few + 2, (few, many)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The round trips that read the payee memory or search the labeled examples (each once)."""
    sent: list[str] = []
    method = Session._send

    async def counted(self: Session, statements: Any) -> Any:
        texts = " ".join(str(s[0]) for s in statements)
        sent.extend(t for t in ("FROM payee_memory", "labeled_examples") if t in texts and "SELECT" in texts)
        return await method(self, statements)

    monkeypatch.setattr(Session, "_send", counted)
    return sent


@pytest.mark.parametrize("batch", ["import", "suggestions"])
def test_the_categorizer_finds_every_lookup_of_a_batch_read_ahead(
    pg_backend: PostgresBackend, lookups: list[str], batch: str
) -> None:
    """The read-ahead asks what the categorizer will ask (the learned payee keys, its own k), so
    a batch of many distinct payees reads the memory and searches the neighbours as often as a
    batch of one payee: before, it searched the raw texts, which the categorizer never asked
    again, and every distinct key's search went out on its own. The one payee is one never
    taught (``PIZZARIA NAPOLI``), so both batches borrow a neighbour's memory entry."""
    vz = pg_backend.app

    async def scene() -> list[tuple[int, int]]:
        t, account = await taught_tenant(vz, f"rk-{batch}-{time.time_ns()}@example.com")
        measured = []
        for turn, (size, payees) in enumerate(((4, NEW[1:2]), (4, NEW[1:2]), (30, NEW))):  # the first detects pgvector
            texts = [f"{payees[i % len(payees)]} {turn} {i}" for i in range(size)]
            if batch == "import":
                rows = tuple(
                    StatementRow(i + 2, date(2026, 3, 1) + timedelta(days=i), text, Money(-(100 + 7 * i + turn), "BRL"))
                    for i, text in enumerate(texts)
                )
                lookups.clear()
                upload = StatementUpload(t, account, f"k{turn}.csv", ParsedStatement(rows, ()))
                assert (await vz.import_statement(upload)).imported == size
            else:
                ids = tuple(
                    [
                        (await vz.create_transaction(NewTransaction(t, account, date(2026, 2, 1), text, "-1.00"))).id
                        for text in texts
                    ]
                )
                lookups.clear()
                assert len(await vz.suggest_categories_many(SuggestionsQuery(t, ids))) == size
            measured.append((lookups.count("FROM payee_memory"), lookups.count("labeled_examples")))
        return measured

    _, one_payee, six_payees = run(scene())
    assert six_payees == one_payee, (one_payee, six_payees)


class BatchedEmbedder(HashingEmbedder):
    """The hashing embedder, as a model run in batches answers: a text's vector in a batch differs
    from its vector alone in the last bits (padding changes the arithmetic's order)."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = super().embed(texts)
        return vectors if len(texts) == 1 else [[v * (1 + 1e-12) for v in vector] for vector in vectors]


def test_a_batch_searches_by_the_vectors_its_read_ahead_searched_by(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row searches by its payee key's vector from the read-ahead (embedded in one batch),
    not by the key embedded again alone: with an embedder whose batches differ in the last bits,
    every distinct key's search missed the answer read ahead and went out on its own."""
    searched: list[int] = []
    search = PgExamples._search

    async def counted(self: PgExamples, query: Any, k: int) -> Any:
        searched.append(k)
        return await search(self, query, k)

    monkeypatch.setattr(PgExamples, "_search", counted)

    async def scene() -> int:
        backend = await PostgresBackend.open(database_url, min_size=1, max_size=4, embedder=BatchedEmbedder())
        try:
            vz = backend.app
            t, account = await taught_tenant(vz, f"rv-{time.time_ns()}@example.com")
            ids = [
                (
                    await vz.create_transaction(NewTransaction(t, account, date(2026, 2, 1), f"{NEW[i % 6]} {i}", "-1"))
                ).id
                for i in range(30)
            ]
            searched.clear()
            assert len(await vz.suggest_categories_many(SuggestionsQuery(t, tuple(ids)))) == 30
            return len(searched)
        finally:
            await backend.close()

    assert run(scene()) == 0  # every search answered by the read-ahead's one statement
