"""An outside tester's writes against the splits check as 0035 merged it (one statement a
firing): as the application's role, every way of leaving a transaction's splits off its amount is
refused at commit, and a unit that passes through an unbalanced state and ends balanced is not."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_core.model.errors import UnbalancedSplits
from valorize_core.model.transactions import Transaction
from valorize_core.testing.contracts import PortsContract
from valorize_core.testing.loop import run


class TestSplitsCheckAttacks(PortsContract):
    def _two(self, pg_backend: PostgresBackend) -> tuple[uuid.UUID, Transaction, Transaction]:
        """A tenant with two stored transactions of -1000: one of two splits (-500, -500), one of one."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        a = self.transaction(t, acc, -1000, categories=(None, None))
        b = self.transaction(t, acc, -1000)
        self.write(ports, t, lambda uow: uow.transactions.add(a))
        self.write(ports, t, lambda uow: uow.transactions.add(b))
        return t, a, b

    def _unit(self, pg_backend: PostgresBackend, t: uuid.UUID, statements: Sequence[tuple[str, Any]]) -> None:
        async def go() -> None:
            async with pg_backend.ports.uow(t) as uow:
                for query, params in statements:
                    await uow.session.execute(query, params)  # type: ignore[attr-defined]
                await uow.commit()

        run(go())

    def _stored(self, pg_backend: PostgresBackend, t: uuid.UUID, *txs: Transaction) -> list[Transaction | None]:
        async def stored() -> list[Transaction | None]:
            async with pg_backend.ports.uow(t) as uow:
                return [await uow.transactions.get(tx.id) for tx in txs]

        return run(stored())

    @pytest.mark.parametrize(
        "statements",
        [
            pytest.param(["DELETE FROM splits WHERE tenant_id = %(t)s AND transaction_id = %(a)s AND position = 1"],
                         id="delete-one-of-two-splits"),
            pytest.param(["UPDATE splits SET amount_minor = -499 WHERE tenant_id = %(t)s AND transaction_id = %(a)s"
                          " AND position = 0"], id="update-one-of-two-splits"),
            pytest.param(["UPDATE splits SET amount_minor = amount_minor + 1 WHERE tenant_id = %(t)s"
                          " AND transaction_id IN (%(a)s, %(b)s)"], id="update-splits-of-two-transactions"),
            pytest.param(["UPDATE transactions SET amount_minor = -1001 WHERE tenant_id = %(t)s AND id = %(a)s",
                          "UPDATE splits SET amount_minor = -501 WHERE tenant_id = %(t)s AND transaction_id = %(a)s"],
                         id="amount-and-every-split-moved-off"),
            pytest.param(["INSERT INTO splits (tenant_id, transaction_id, position, amount_minor)"
                          " VALUES (%(t)s, %(a)s, 2, 0)",
                          "UPDATE splits SET amount_minor = 1 WHERE tenant_id = %(t)s AND transaction_id = %(a)s"
                          " AND position = 2"], id="a-third-split-of-one"),
            pytest.param(["DELETE FROM splits WHERE tenant_id = %(t)s AND transaction_id = %(b)s",
                          "UPDATE transactions SET amount_minor = 0 WHERE tenant_id = %(t)s AND id = %(b)s"],
                         id="no-split-and-zero-amount"),
            pytest.param(["UPDATE splits SET transaction_id = %(b)s, position = 1 WHERE tenant_id = %(t)s"
                          " AND transaction_id = %(a)s AND position = 1",
                          "UPDATE splits SET amount_minor = -500 WHERE tenant_id = %(t)s AND transaction_id = %(b)s"
                          " AND position = 0"], id="a-split-moved-to-another-transaction"),
        ],
    )  # fmt: skip
    def test_every_unbalanced_commit_is_refused(self, pg_backend: PostgresBackend, statements: list[str]) -> None:
        t, a, b = self._two(pg_backend)
        params = {"t": t, "a": a.id, "b": b.id}
        with pytest.raises(UnbalancedSplits):
            self._unit(pg_backend, t, [(s, params) for s in statements])
        assert self._stored(pg_backend, t, a, b) == [a, b]

    def test_an_unbalanced_state_inside_a_unit_is_fine_when_it_ends_balanced(self, pg_backend: PostgresBackend) -> None:
        t, a, b = self._two(pg_backend)
        params = {"t": t, "a": a.id, "b": b.id}
        self._unit(pg_backend, t, [
            ("UPDATE transactions SET amount_minor = -1200 WHERE tenant_id = %(t)s AND id = %(a)s", params),
            ("DELETE FROM splits WHERE tenant_id = %(t)s AND transaction_id = %(a)s AND position = 1", params),
            ("UPDATE splits SET amount_minor = -1200 WHERE tenant_id = %(t)s AND transaction_id = %(a)s", params),
        ])  # fmt: skip
        stored_a, stored_b = self._stored(pg_backend, t, a, b)
        assert stored_a is not None
        assert stored_a.amount.minor == -1200
        assert [s.amount.minor for s in stored_a.splits] == [-1200]
        assert stored_b == b

    def test_checking_now_inside_a_unit_refuses_the_unbalanced_state(self, pg_backend: PostgresBackend) -> None:
        t, a, b = self._two(pg_backend)
        params = {"t": t, "a": a.id, "b": b.id}
        with pytest.raises(UnbalancedSplits):
            self._unit(pg_backend, t, [
                ("DELETE FROM splits WHERE tenant_id = %(t)s AND transaction_id = %(a)s AND position = 1", params),
                ("SET CONSTRAINTS ALL IMMEDIATE", ()),
                ("INSERT INTO splits (tenant_id, transaction_id, position, amount_minor)"
                 " VALUES (%(t)s, %(a)s, 1, -500)", params),
            ])  # fmt: skip
        assert self._stored(pg_backend, t, a, b) == [a, b]
