"""The categorizer scores a line with given neighbours once per unit of work (an import, a page
of suggestions): the decisions it then makes for a batch — suggestions, confidences, sources,
explanations, abstentions — are exactly those it makes for each row alone, in a unit of its own."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.postgres import PostgresBackend
from valorize_core import NewAccount, NewCategory, NewTransaction, SignupRequest, Valorize
from valorize_core.model.money import Money
from valorize_core.model.transactions import Categorization, Split, Transaction
from valorize_core.testing.loop import run
from valorize_core.use_cases.categorization import Categorizer, Decision, _Candidate

PAYEES = {
    "Groceries": ["SUPERMERCADO ZAFFARI", "CARREFOUR", "PAO DE ACUCAR", "HORTIFRUTI"],
    "Restaurants": ["RESTAURANTE SABOR", "PIZZARIA BELLA", "SUSHI LOKO"],
    "Transport": ["UBER TRIP", "METRO SP", "CABIFY"],
    "Delivery": ["IFOOD", "UBER EATS", "RAPPI"],
    "Shopping": ["AMAZON MKTPLACE", "MERCADO LIVRE", "RENNER"],
    "Books": ["AMAZON KINDLE", "LIVRARIA CULTURA", "SARAIVA"],
    "Health": ["DROGASIL", "FARMACIA SAO JOAO", "LAB FLEURY"],
    "Home": ["LEROY MERLIN", "TOK STOK", "CARREFOUR"],  # CARREFOUR: a payee under two categories
}
FORMATS = ["{P}", "COMPRA CARTAO {n} {P} {city}", "PIX ENVIADO {P}", "DEBITO {P} {n}", "{P} {city} BR", "PAG*{P}"]
CITIES = ["SAO PAULO", "CURITIBA", "RECIFE", "PORTO ALEGRE"]
AMOUNTS = [-990, -1590, -4500, -12000, -23790]


def line(rng: random.Random, payee: str) -> str:
    text = rng.choice(FORMATS).format(P=payee, n=rng.randrange(1000, 9999), city=rng.choice(CITIES))
    roll = rng.random()
    if roll < 0.1:  # a typo
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1 :]
    elif roll < 0.2:  # truncated anywhere
        text = text[: rng.randrange(4, len(text) + 1)]
    elif roll < 0.3:  # a payee never seen
        text = text.replace(payee, f"{payee.split()[0]} NOVO{rng.choice('ABC')}")
    return text


@pytest.fixture(params=["memory", "postgres"])
def vz(request: pytest.FixtureRequest) -> Iterator[Valorize]:
    if request.param == "memory":
        yield InMemoryBackend().app
    else:
        backend: PostgresBackend = request.getfixturevalue("pg_backend")
        yield backend.app


def test_a_batch_decides_each_row_as_it_would_alone(vz: Valorize, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    categorizer: Categorizer = vz.ports.categorizer
    scored = explained = 0
    score, reasons = Categorizer._score, _Candidate.reasons
    counting = False

    def counted_reasons(self: _Candidate) -> str:
        nonlocal explained
        explained += counting
        return reasons(self)

    async def counted(self: Categorizer, *args: Any, **kw: Any) -> Any:
        nonlocal scored
        scored += 1
        return await score(self, *args, **kw)

    async def scene() -> tuple[list[Decision], list[Decision], int]:
        t = (await vz.signup(SignupRequest("Casa", f"bs-{time.time_ns()}@example.com", "Ana"))).tenant.id
        account = (await vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "100.00"))).id
        categories = {name: (await vz.create_category(NewCategory(t, name, "expense"))).id for name in PAYEES}
        start = date(2026, 1, 1)
        for i in range(160):  # what a person categorized
            name = rng.choice(list(PAYEES))
            amount = Money(rng.choice(AMOUNTS), "BRL")
            await vz.create_transaction(NewTransaction(t, account, start + timedelta(days=i % 90), line(rng, rng.choice(
                PAYEES[name])), amount.to_decimal_string(), category_id=categories[name]))  # fmt: skip
        drafts = []
        for i in range(120):  # a statement: payees repeat, printed alike or not
            payee = rng.choice(rng.choice(list(PAYEES.values())))
            amount = Money(rng.choice(AMOUNTS), "BRL")
            now = vz.ports.clock.now()
            drafts.append(Transaction(
                id=vz.ports.ids.new_id(), tenant_id=t, account_id=account, booked_on=start + timedelta(days=100 + i),
                description=line(rng, payee), payee="", amount=amount, splits=(Split(None, amount),),
                created_at=now, updated_at=now, categorization=Categorization.none(),
            ))  # fmt: skip
        drafts += drafts[:40]  # the very same rows again
        known: set[UUID] = set(categories.values())
        alone = []
        for tx in drafts:
            async with vz.ports.uow(t) as uow:
                alone.append(await categorizer.decide(tx, uow, known=known))
        nonlocal scored, counting
        scored, counting = 0, True
        async with vz.ports.uow(t) as uow:
            await categorizer.read_ahead_many(uow, ((categorizer.label_text(tx), tx.amount) for tx in drafts))
            batched = [await categorizer.decide(tx, uow, known=known) for tx in drafts]
        counting = False
        return alone, batched, scored

    monkeypatch.setattr(Categorizer, "_score", counted)
    monkeypatch.setattr(_Candidate, "reasons", counted_reasons)
    alone, batched, scored_in_batch = run(scene())
    # a decision explains its choice, or the three closest of an abstention, not every candidate
    assert explained <= 3 * len(batched) < sum(len(d.suggestions) for d in batched)
    assert batched == alone
    assert any(d.chosen for d in alone)
    assert any(d.chosen is None for d in alone)  # abstentions too
    assert any("about" in s.explanation for d in alone for s in d.suggestions)  # the amount was asked
    assert scored_in_batch < len(batched) * 0.8  # rows that repeat a line were scored once
