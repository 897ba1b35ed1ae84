"""An outside tester's stored rows for an import's :class:`MatchScope`: PostgreSQL's and memory's
``match_candidates`` return exactly what the old full-window read kept after the scope's own test
(rows at each edge of the window, other accounts' rows, deleted rows, rows named only by bank id
or fingerprint with another amount), and the rows' decisions are those of the old read."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

from valorize_core import NewAccount, SignupRequest, Valorize
from valorize_core.model.fingerprint import fingerprints_with_occurrence
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Money
from valorize_core.model.statements.matching import FUZZY_WINDOW_DAYS, MatchScope, RowDecision, match_rows
from valorize_core.model.statements.rows import StatementRow
from valorize_core.model.transactions import Split, Transaction, TransactionStatus
from valorize_core.testing.loop import run

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FIRST, LAST = date(2026, 3, 10), date(2026, 3, 20)  # the file's first and last rows


def _tx(tenant: uuid.UUID, account: uuid.UUID, day: date, minor: int, **kw: object) -> Transaction:
    money = Money(minor, "BRL")
    return Transaction(
        id=uuid.uuid4(), tenant_id=tenant, account_id=account, booked_on=day, description="LOJA", payee="Loja",
        amount=money, splits=(Split(None, money),), created_at=NOW, updated_at=NOW, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_scope_reads_what_the_full_window_read_kept_and_decides_alike(app: Valorize) -> None:
    window = timedelta(days=FUZZY_WINDOW_DAYS)

    async def scene() -> tuple[list[RowDecision], list[RowDecision], set[uuid.UUID], set[uuid.UUID], set[uuid.UUID]]:
        t = (await app.signup(SignupRequest("Scope", f"scope-{time.time_ns()}@example.com", "S"))).tenant.id
        account = (await app.create_account(NewAccount(t, "Main", "checking", "BRL", "0"))).id
        other = (await app.create_account(NewAccount(t, "Other", "checking", "BRL", "0"))).id
        rows = [
            StatementRow(2, FIRST, "LOJA A", Money(-1000, "BRL")),
            StatementRow(3, FIRST, "LOJA A", Money(-1000, "BRL")),  # the same row twice in the file
            StatementRow(4, date(2026, 3, 15), "PIX", Money(-2500, "BRL"), external_id="FIT-1"),
            StatementRow(5, date(2026, 3, 15), "PIX", Money(-2500, "BRL"), external_id="FIT-1"),  # repeated id
            StatementRow(6, LAST, "SALARIO", Money(500000, "BRL"), external_id="FIT-2"),
            StatementRow(7, LAST, "ZERO", Money(0, "BRL")),
            StatementRow(8, date(2026, 3, 12), "POSTED", Money(-777, "BRL"), external_id="FIT-3"),
        ]
        prints = fingerprints_with_occurrence(account, ((r.booked_on, r.amount, r.description) for r in rows))
        stored = [
            # each edge of the window, with a row's amount: in on the edge, out one day past it
            _tx(t, account, FIRST - window, -1000),
            _tx(t, account, FIRST - window - timedelta(days=1), -1000),
            _tx(t, account, LAST + window, 500000),
            _tx(t, account, LAST + window + timedelta(days=1), 500000),
            _tx(t, account, LAST + window, 0),
            # named by a row's bank id or fingerprint only (another amount): a pending that posts
            _tx(t, account, date(2026, 3, 9), -700, external_id="FIT-3", status=TransactionStatus.PENDING),
            _tx(t, account, FIRST, -1, fingerprint=prints[1]),
            _tx(t, account, date(2026, 3, 16), -2499, external_id="FIT-1"),
            # no row's amount, id or fingerprint: never a candidate
            _tx(t, account, date(2026, 3, 15), -2501),
            _tx(t, account, date(2026, 3, 15), 1000),  # the opposite sign
            # another account's rows with every key of the file
            _tx(t, other, FIRST, -1000),
            _tx(t, other, date(2026, 3, 15), -2500, external_id="FIT-2"),
            _tx(t, other, FIRST, -1000, fingerprint=prints[0]),
            # a pending the fuzzy pass can post (same amount, no bank id) and a deleted twin
            _tx(t, account, date(2026, 3, 14), -2500, status=TransactionStatus.PENDING),
        ]
        deleted = _tx(t, account, date(2026, 3, 15), -2500)
        async with app.ports.uow(t) as uow:
            await uow.transactions.add_many([*stored, deleted])
            await uow.commit()
        async with app.ports.uow(t) as uow:
            await uow.transactions.remove(deleted.id)
            await uow.commit()
        scope = MatchScope.of(rows, prints)
        assert scope is not None
        async with app.ports.uow(t) as uow:
            old = await uow.transactions.all(
                TransactionFilter(account_ids=(account,), date_from=scope.date_from, date_to=scope.date_to)
            )
            new = await uow.transactions.match_candidates(account, scope)
            known_ids = await uow.transactions.existing_external_ids(
                account, [r.external_id for r in rows if r.external_id]
            )
            known_prints = await uow.transactions.existing_fingerprints(account, prints)
        kw = {"known_ids": known_ids, "known_prints": known_prints}
        before = match_rows(rows, prints, candidates=old, **kw)  # type: ignore[arg-type]
        after = match_rows(rows, prints, candidates=new, **kw)  # type: ignore[arg-type]
        expected = {tx.id for tx in old if scope.admits(tx)}
        return before, after, {tx.id for tx in new}, expected, {tx.id for tx in stored[:5:2]} | {stored[4].id}

    before, after, read, expected, edges = run(scene())
    assert read == expected
    assert edges <= read  # the rows on the window's edges are read, the ones a day past are not
    assert after == before
    assert [d.outcome.value for d in after] == ["duplicate", "duplicate", "duplicate", "duplicate", "reconcile",
                                                 "duplicate", "posts"]  # fmt: skip
