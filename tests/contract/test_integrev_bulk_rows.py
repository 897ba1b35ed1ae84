"""An import's rows written as columns (``add_many``: one ``INSERT … SELECT FROM unnest`` per
table) read back exactly as the rows they were, on PostgreSQL and memory: odd text, tags, money
at its bounds, foreign currencies, dates, NULLs; a batch that fails writes nothing."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from valorize_core import NewAccount, SignupRequest, Valorize
from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.listing import TransactionFilter, transaction_tokens
from valorize_core.model.money import MAX_MINOR, Money
from valorize_core.model.statements.imports import ImportStatus, StatementImport
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.model.transaction_view import transaction_view
from valorize_core.model.transactions import (
    Categorization,
    CategorizationSource,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.import_statement import StatementUpload

NOW = datetime(2026, 11, 3, 12, 0, 0, 123456, tzinfo=UTC)
ODD_TEXTS = [
    "",
    "plain",
    "a,b",
    '"quoted" {braces} \\back\\slash',
    "NULL",
    "null",
    "{}",
    "{NULL}",
    "tab\there",
    "ção É ß ﬁ İstanbul",
    "emoji 😀 𝔘 \u200b zero-width",
    "right\u202eleft",
    "x" * 500,
]
ODD_TAGS = [
    (),
    ("null",),
    ("nan", "_", "0"),
    ("y.z", "a:b/c", "..", "--"),
    ("ção", "ß", "ǆ", "١٢"),
    ("-", ".", ":", "/"),
    ("t" * 50,),
]


def _odd_rows(
    tenant: uuid.UUID, accounts: dict[str, uuid.UUID], import_id: uuid.UUID | None = None
) -> list[Transaction]:
    made: list[Transaction] = []
    amounts = [MAX_MINOR, -MAX_MINOR, 0, 1, -1, 2**31, -(2**31) - 1]
    days = [date(1, 1, 1), date(9999, 12, 31), date(2024, 2, 29), date(1970, 1, 1)]
    currencies = ["BRL", "JPY", "BHD", "USD"]
    n = max(len(ODD_TEXTS), len(amounts), len(ODD_TAGS)) * 2
    for i in range(n):
        code = currencies[i % len(currencies)]
        text = ODD_TEXTS[i % len(ODD_TEXTS)]
        amount = Money(amounts[i % len(amounts)], code)
        made.append(
            Transaction(
                id=uuid.uuid4(),
                tenant_id=tenant,
                account_id=accounts[code],
                booked_on=days[i % len(days)],
                description=text,
                payee=ODD_TEXTS[(i + 3) % len(ODD_TEXTS)][:200],
                amount=amount,
                splits=(Split(None, amount, ODD_TEXTS[(i + 5) % len(ODD_TEXTS)]),),
                created_at=NOW,
                updated_at=NOW,
                status=TransactionStatus.PENDING if i % 3 == 0 else TransactionStatus.POSTED,
                source=TransactionSource.IMPORT,
                tags=ODD_TAGS[i % len(ODD_TAGS)],
                external_id=None if i % 2 else f'ext,{i}"{{NULL}}',
                fingerprint=None if i % 4 == 1 else ("" if i == 2 else f"fp {i} ção {uuid.uuid4()}"),
                categorization=Categorization(
                    [CategorizationSource.NONE, CategorizationSource.NEIGHBOURS, CategorizationSource.RULE][i % 3],
                    Decimal("0.0005") if i % 2 else Decimal("0.9995"),
                    ODD_TEXTS[(i + 7) % len(ODD_TEXTS)],
                    uuid.uuid4() if i % 3 == 2 else None,
                ),
                transfer_id=uuid.uuid4() if i % 4 == 3 else None,
                import_id=import_id if i % 5 else None,
            )
        )
    return made


async def _setup(vz: Valorize) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    t = (await vz.signup(SignupRequest("Bulk", f"bulk-{time.time_ns()}@example.com", "B"))).tenant.id
    accounts = {}
    for code in ("BRL", "JPY", "BHD", "USD"):
        accounts[code] = (await vz.create_account(NewAccount(t, code, "checking", code, "0"))).id
    return t, accounts


def test_every_column_round_trips_through_the_batched_insert(app: Valorize) -> None:
    async def scene() -> tuple[list[Transaction], list[Transaction], list[Transaction], list[Transaction]]:
        t, accounts = await _setup(app)
        record = StatementImport(uuid.uuid4(), t, accounts["BRL"], "odd.csv", ImportStatus.RUNNING, NOW)
        async with app.ports.uow(t) as uow:
            await uow.imports.add(record)
            await uow.commit()
        many = _odd_rows(t, accounts, record.id)
        one_by_one = await _write_batch_and_singles(app, t, many)
        async with app.ports.uow(t) as uow:
            got_many = await uow.transactions.get_many([tx.id for tx in many])
            got_one = await uow.transactions.get_many([tx.id for tx in one_by_one])
        return many, got_many, one_by_one, got_one

    many, got_many, one_by_one, got_one = run(scene())
    by_id = {tx.id: tx for tx in got_many}
    assert len(by_id) == len(many)
    for tx in many:
        assert by_id[tx.id] == tx, tx
    by_id_one = {tx.id: tx for tx in got_one}
    for tx in one_by_one:
        assert by_id_one[tx.id] == tx


def test_batched_rows_are_found_by_tag_and_by_word_like_single_rows(app: Valorize) -> None:
    """Each tag filter (any, all) and word search finds exactly the rows whose tags and words
    say so, the batch's as the single inserts' (PostgreSQL: as the application's role, no GIN)."""

    async def scene() -> dict[str, tuple[set[uuid.UUID], set[uuid.UUID]]]:
        t, accounts = await _setup(app)
        many = _odd_rows(t, accounts)
        singles = await _write_batch_and_singles(app, t, many)
        every = [*many, *singles]
        cases: dict[str, tuple[TransactionFilter, set[uuid.UUID]]] = {}
        for tags in ODD_TAGS:
            for tag in tags:
                cases[f"any {tag}"] = (TransactionFilter(tags_any=(tag,)), {x.id for x in every if tag in x.tags})
            if len(tags) > 1:
                cases[f"all {tags}"] = (
                    TransactionFilter(tags_all=tags),
                    {x.id for x in every if set(tags) <= set(x.tags)},
                )
        cases["any null+ß"] = (
            TransactionFilter(tags_any=("null", "ß")),
            {x.id for x in every if {"null", "ß"} & set(x.tags)},
        )
        for word in ("plain", "quoted", "braces", "null", "cao", "zero", "emoji", "xxx", "ext"):
            expected = {x.id for x in every if any(w.startswith(word) for w in transaction_tokens(x))}
            cases[f"word {word}"] = (TransactionFilter(text=word), expected)
        found: dict[str, tuple[set[uuid.UUID], set[uuid.UUID]]] = {}
        async with app.ports.uow(t) as uow:
            for name, (f, expected) in cases.items():
                page = await uow.transactions.page(f, None, 500)
                found[name] = ({x.id for x in page.items}, expected)
        return found

    found = run(scene())
    for name, (got, expected) in found.items():
        assert got == expected, name
    assert all(expected for name, (_, expected) in found.items() if not name.startswith("word ext")), found.keys()


async def _refusal(app: Valorize, tenant: uuid.UUID, rows: list[Transaction]) -> type[BaseException] | None:
    """The type of the error writing ``rows`` as one batch raised, or None if it was stored."""
    try:
        async with app.ports.uow(tenant) as uow:
            await uow.transactions.add_many(rows)
            await uow.commit()
    except Exception as exc:
        return type(exc)
    return None


def test_a_batch_that_fails_at_commit_writes_none_of_its_rows(app: Valorize) -> None:
    async def scene() -> tuple[type[BaseException] | None, int]:
        t, accounts = await _setup(app)
        rows = _odd_rows(t, accounts)
        rows[-1] = Transaction(**{**_fields(rows[-1]), "id": rows[0].id})  # a repeated id: the last row fails
        error = await _refusal(app, t, rows)
        async with app.ports.uow(t) as uow:
            page = await uow.transactions.page(TransactionFilter(), None, 500)
        return error, len(page.items)

    error, stored = run(scene())
    assert error is Conflict  # a domain error on both adapters, never the driver's
    assert stored == 0


async def _write_batch_and_singles(app: Valorize, tenant: uuid.UUID, many: list[Transaction]) -> list[Transaction]:
    """Writes ``many`` as one batch, then a copy of each (a new id, other fingerprint and bank id)
    one row per commit (the single-row path, for comparison); returns the copies."""
    singles = [
        Transaction(
            **{
                **_fields(tx),
                "id": uuid.uuid4(),
                "fingerprint": _other(tx.fingerprint),
                "external_id": _other(tx.external_id),
            }
        )
        for tx in many
    ]
    async with app.ports.uow(tenant) as uow:
        await uow.transactions.add_many(many)
        await uow.commit()
    for tx in singles:
        async with app.ports.uow(tenant) as uow:
            await uow.transactions.add_many([tx])
            await uow.commit()
    return singles


@pytest.mark.parametrize("size", [1, 2, 26])  # the single-row path and the batched one
def test_a_batch_with_another_tenants_account_is_refused_whole(app: Valorize, size: int) -> None:
    async def scene() -> tuple[type[BaseException] | None, int, int]:
        t, accounts = await _setup(app)
        other, other_accounts = await _setup(app)
        rows = _odd_rows(t, accounts)[:size]
        theirs = Money(5, "USD")  # the last row, in another tenant's account
        rows[-1] = Transaction(**{**_fields(rows[-1]), "account_id": other_accounts["USD"], "amount": theirs,
                                  "splits": (Split(None, theirs),)})  # fmt: skip
        assert len(rows) == size
        error = await _refusal(app, t, rows)
        counts = []
        for tenant in (t, other):
            async with app.ports.uow(tenant) as uow:
                counts.append(len((await uow.transactions.page(TransactionFilter(), None, 500)).items))
        return error, counts[0], counts[1]

    error, mine, theirs = run(scene())
    assert error is NotFound  # the account is not this tenant's, on both adapters
    assert (mine, theirs) == (0, 0)


def _other(fingerprint: str | None) -> str | None:
    return None if fingerprint is None else f"{fingerprint} again"


def _fields(tx: Transaction) -> dict[str, Any]:
    return {name: getattr(tx, name) for name in Transaction.__dataclass_fields__}


def test_an_odd_statement_imported_twice_is_all_duplicates_the_second_time(app: Valorize) -> None:
    """The import's own path (drafts, with_category, fingerprints, the batched insert): its rows
    stored as read, and the same file again matches every row (fingerprints and bank ids as
    stored), on both adapters."""

    async def scene() -> tuple[Any, Any, list[Transaction]]:
        t, accounts = await _setup(app)
        lines = tuple(
            StatementRow(
                i + 2,
                date(2026, 1, 1) + timedelta(days=i % 40),
                text or "-",
                Money((-1) ** i * (i * 997 + 1), "BRL"),
                payee=ODD_TEXTS[(i + 4) % len(ODD_TEXTS)][:120],
                external_id=f'FIT,{i}"{{x}}' if i % 3 == 0 else None,
            )
            for i, text in enumerate(ODD_TEXTS * 3)
        )
        statement = ParsedStatement(lines, ())
        first = await app.import_statement(StatementUpload(t, accounts["BRL"], "odd.csv", statement))
        again = await app.import_statement(StatementUpload(t, accounts["BRL"], "odd.csv", statement))
        async with app.ports.uow(t) as uow:
            stored = (await uow.transactions.page(TransactionFilter(), None, 500)).items
        return first, again, list(stored)

    first, again, stored = run(scene())
    n = len(ODD_TEXTS) * 3
    assert (first.imported, first.duplicates) == (n, 0)
    assert (again.imported, again.duplicates) == (0, n)
    assert len(stored) == n
    assert len({tx.fingerprint for tx in stored if tx.fingerprint}) == sum(1 for tx in stored if tx.fingerprint)


def test_the_list_views_of_odd_rows_are_the_views_of_the_rows(app: Valorize) -> None:
    """miss4's views made by PostgreSQL's cursor (no Transaction decoded) show each odd row as
    the domain's own view of it shows it, on both adapters."""

    async def scene() -> tuple[list[Transaction], list[Any]]:
        t, accounts = await _setup(app)
        many = _odd_rows(t, accounts)
        async with app.ports.uow(t) as uow:
            await uow.transactions.add_many(many)
            await uow.commit()
        async with app.ports.uow(t) as uow:
            page = await uow.transactions.page_view(TransactionFilter(), None, 500)
        return many, list(page.items)

    many, views = run(scene())
    expected = {tx.id: transaction_view(tx) for tx in many}
    assert len(views) == len(many)
    for view in views:
        assert view == expected[view.id], view.id
