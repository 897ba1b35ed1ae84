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

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core import NewAccount, NewCategory, NewTransaction, SignupRequest, Valorize
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.correct_category import CategoryCorrections
from valorize_core.use_cases.actions.create_transaction import SplitInput
from valorize_core.use_cases.queries.list_rule_suggestions import RuleSuggestionsQuery

BATCHES = {  # six payees each: every one reaches the rule threshold within its batch
    "few": ["PADARIA REAL", "PIZZARIA BELLA", "UBER TRIP", "LIVRARIA CULTURA", "POSTO IPIRANGA", "FARMACIA SAO JOAO"],
    "many": ["CINEMARK", "NETFLIX COM", "SMART FIT", "DROGASIL", "COBASI", "SABESP AGUA"],
}


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    for name in ("fetch", "execute", "execute_many"):
        method = getattr(Session, name)

        async def counted(self: Session, query: Any, *args: Any, _method: Any = method, **kw: Any) -> Any:
            sent.append(str(query)[:60])
            return await _method(self, query, *args, **kw)

        monkeypatch.setattr(Session, name, counted)
    return sent


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
