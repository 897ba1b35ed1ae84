"""Adversarial review of the leaner write path's statement counts beyond the two writes
``test_round_trips`` pins: a transfer (one currency and two), a split write, a write a rule
categorizes, a write to a foreign-currency account. Each is one transaction; the outbox and its
tasks are one statement; a balance update carries the rows only when they are one row and one
split queued last (a transfer's legs and a split write's splits are many rows: not carried);
and each write's balance is still exact."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient
from test_round_trips import Lease, traced

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture
def pg_writer(database_url: str) -> Iterator[TestClient[Any]]:
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, db_pool_max=4))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def _one_unit(client: TestClient[Any], tmp_path: Path, write: Callable[[], Any]) -> tuple[Any, Lease]:
    with traced(client, tmp_path) as wire:
        response = write()
    assert response.status_code == 201, response.text
    (unit,) = wire.requests()
    assert unit.sent("BEGIN") == unit.sent("COMMIT") == 1
    (stored,) = [s for s in unit.executed() if "INSERT INTO outbox" in s]
    assert "INSERT INTO task_queue" in stored, stored
    return response, unit


def _carried(unit: Lease) -> list[str]:
    return [s for s in unit.executed() if "UPDATE accounts SET balance_minor" in s and "INSERT INTO" in s]


def test_statement_counts_of_transfers_splits_rules_and_foreign_accounts(
    pg_writer: TestClient[Any], tmp_path: Path
) -> None:
    api = Api(pg_writer)
    brl = api.account("Conta", "BRL", "1000.00")
    savings = api.account("Poupança", "BRL", "0")
    usd = api.account("Dollars", "USD", "0")
    food, home = api.category("Food"), api.category("Home")
    rule = {"name": "Padaria", "conditions": {"match": "all", "conditions": [
        {"field": "description", "operator": "contains", "value": "PADARIA"}]},
        "actions": [{"type": "set_category", "category_id": food}]}  # fmt: skip
    assert api.post("/api/rules", rule).status_code == 201
    assert api.tx(brl, "2026-03-01", "WARM UP", "-1.00").status_code == 201  # the token is cached now
    counts: dict[str, int] = {}

    _, unit = _one_unit(pg_writer, tmp_path, lambda: api.tx(brl, "2026-03-02", "PADARIA REAL", "-7.00"))
    assert len(_carried(unit)) == 1, unit.executed()
    assert not [s for s in unit.executed() if s.startswith("INSERT INTO transactions")]
    counts["rule"] = unit.statements

    splits = [{"amount": "-6.00", "category_id": food}, {"amount": "-4.00", "category_id": home}]
    _, unit = _one_unit(pg_writer, tmp_path, lambda: api.tx(brl, "2026-03-02", "MERCADO", "-10.00", splits=splits))
    assert _carried(unit) == [], unit.executed()  # two splits: the rows in their own statements
    assert unit.sent("INSERT INTO splits") == 2  # executemany: an Execute per split
    counts["splits"] = unit.statements

    transfer = {"from_account_id": brl, "to_account_id": savings, "amount": "50.00", "booked_on": "2026-03-02"}
    _, unit = _one_unit(pg_writer, tmp_path, lambda: api.post("/api/transfers", transfer))
    assert _carried(unit) == [], unit.executed()  # two legs: not carried
    assert unit.sent("UPDATE accounts SET balance_minor") == 2
    assert unit.sent("INSERT INTO transactions") == 1  # both legs in one INSERT … SELECT FROM unnest
    counts["transfer"] = unit.statements

    fx = {"from_account_id": brl, "to_account_id": usd, "amount": "58.25", "to_amount": "10.00"}
    _, unit = _one_unit(pg_writer, tmp_path, lambda: api.post("/api/transfers", {**fx, "booked_on": "2026-03-02"}))
    assert _carried(unit) == [], unit.executed()
    counts["fx_transfer"] = unit.statements

    _, unit = _one_unit(pg_writer, tmp_path, lambda: api.tx(usd, "2026-03-02", "DINER", "-2.50"))
    assert len(_carried(unit)) == 1, unit.executed()
    counts["foreign_account"] = unit.statements

    # main (before the leaner write path): 13, 14, 13, 13, 16 — none grew; the transfers' two legs
    # (add_many) went from an INSERT each per table (12) to one per table (10); the category tree's
    # shared lock joined the settings statement (``Session.hold``: 10, 13, 12 → 9, 12, 11 for the
    # writes that read the tree at their opening).
    assert counts == {"rule": 9, "splits": 12, "transfer": 10, "fx_transfer": 10, "foreign_account": 11}, counts
    assert api.get(f"/api/accounts/{brl}").json()["balance"]["amount"] == "873.75"  # 1000-1-7-10-50-58.25
    assert api.get(f"/api/accounts/{savings}").json()["balance"]["amount"] == "50.00"
    assert api.get(f"/api/accounts/{usd}").json()["balance"]["amount"] == "7.50"
