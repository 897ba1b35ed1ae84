"""The mixed scenario's cache hit ratio, counted over a fixed request sequence (no timing).

The same requests as ``experiments.py``'s mixed scenario — 65 % transaction lists (all accounts /
one account / one category in turn, each read four pages deep by its cursor), 20 %
``POST /api/transactions``, 15 % ``GET /api/accounts`` — from CONNECTIONS connections with a
tenant each, in a fixed interleaving; with ``--other-writes`` (the default) one write in ten is
instead a statement import (five rows into one account) and one in ten a rule edit, as a real
mix has them, through the API in-process (memory backend, in-process
read cache). After every write its follow-up tasks run, as the worker would run them. The hit
ratio is counted by the API's read cache itself (hits over lookups). The cache's clock is
simulated — every request takes 1/RATE seconds — so that what depends on time (a write's hold,
TTLs) does not depend on how fast this machine runs: the count is the same on every run and
every machine; compare commits with it.

    .venv/bin/python perf/hit_ratio.py [--requests 8000] [--connections 8]   # ~3 minutes
    .venv/bin/python perf/hit_ratio.py --quick                                # seconds
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from valorize_adapters.memory import InMemoryTaskQueue
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

PAYEES = [
    "PADARIA REAL",
    "POSTO SHELL",
    "SUPERMERCADO DIA",
    "FARMACIA SAO JOAO",
    "UBER TRIP",
    "NETFLIX",
    "RESTAURANTE SABOR",
    "LIVRARIA CULTURA",
    "CINEMA CENTER",
    "ACADEMIA FIT",
    "PET SHOP",
    "LOJA ROUPAS",
]
PAGES_DEEP = 4
MAPPING = {"date_column": "data", "description_column": "lançamento", "amount_column": "valor",
           "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}  # fmt: skip


class Tenant:
    def __init__(self, client: TestClient[Any], k: int, seeded: int, other_writes: bool) -> None:
        self.client = client
        r = client.post("/api/signup", json={"tenant_name": f"T{k}", "email": f"t{k}@example.com", "name": "Ana"})
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}
        self.accounts = [
            self.post(
                "/api/accounts", {"name": f"A{i}", "kind": "checking", "currency": "BRL", "opening_balance": "1000.00"}
            )["id"]
            for i in range(4)
        ]
        self.categories = [self.post("/api/categories", {"name": f"C{i}", "kind": "expense"})["id"] for i in range(12)]
        for i in range(seeded):  # each payee in its own category, spread over the accounts and October
            body = {
                "account_id": self.accounts[i % 4],
                "booked_on": f"2026-10-{i % 28 + 1:02d}",
                "description": f"{PAYEES[i % 12]} {i}",
                "amount": f"-{i % 90 + 1}.{i % 100:02d}",
                "category_id": self.categories[i % 12],
            }
            self.post("/api/transactions", body)
        self.visits = 0
        self.lists: dict[str, dict[str, Any]] = {}
        self.rule = ""
        if other_writes:  # what the writes' payee is categorized into anyway (the memory learned it)
            conditions = {"match": "all", "conditions": [{"field": "description", "operator": "contains",
                                                          "value": "PADARIA"}]}  # fmt: skip
            rule = {"name": "Padaria", "conditions": conditions,
                    "actions": [{"type": "set_category", "category_id": self.categories[0]}]}  # fmt: skip
            self.rule = self.post("/api/rules", rule)["id"]

    def import_statement(self, i: int) -> None:
        """Five new rows (payees of the seeded categories) into one account, in November."""
        rows = [f"{(i + r) % 28 + 1:02d}/11/2026;{PAYEES[(i + r) % 12]} IMP{i}.{r};-{(i + r) % 90 + 1},{r:02d}"
                for r in range(5)]  # fmt: skip
        csv = "data;lançamento;valor\n" + "\n".join(rows) + "\n"
        form = {"account_id": self.accounts[i % 4], "mapping": json.dumps(MAPPING)}
        files = {"file": ("extrato.csv", csv.encode(), "text/csv")}
        r = self.client.post("/api/imports", data=form, files=files, headers=self.headers)
        assert r.status_code == 202, r.text

    def edit_rule(self, i: int) -> None:
        """Rename the rule and widen or narrow its condition (no retroactive application)."""
        conditions = {"match": "all", "conditions": [{"field": "description", "operator": "contains",
                                                      "value": "PADARIA" if i % 2 else "PADARIA REAL"}]}  # fmt: skip
        body = {"name": f"Padaria {i}", "conditions": conditions}
        r = self.client.patch(f"/api/rules/{self.rule}", json=body, headers=self.headers)
        assert r.status_code == 200, r.text

    def post(self, path: str, body: Any) -> Any:
        r = self.client.post(path, json=body, headers=self.headers)
        assert r.status_code == 201, r.text
        return r.json()

    def list_request(self, v: int) -> str:
        """Read the next page of the visit's list; returns which kind of list it was."""
        kind, turn = v % 3, v // 3
        path = "/api/transactions?limit=50"
        if kind == 1:
            path += f"&account_id={self.accounts[turn % 4]}"
        elif kind == 2:
            path += f"&category_id={self.categories[turn % 12]}"
        state = self.lists.get(path)
        if state and state.get("cursor") and state["depth"] < PAGES_DEEP:
            state["depth"] += 1
            url = f"{path}&cursor={state['cursor']}"
        else:
            state = self.lists[path] = {"depth": 1}
            url = path
        r = self.client.get(url, headers=self.headers)
        assert r.status_code == 200, r.text
        state["cursor"] = r.json()["next_cursor"]
        return ["all accounts", "one account", "one category"][kind] + (" (first page)" if "cursor=" not in url else "")


def drain(client: TestClient[Any]) -> None:
    runtime = client.app.state.runtime

    async def run() -> None:
        queue = runtime.task_queue
        assert isinstance(queue, InMemoryTaskQueue)
        while (task := queue.take()) is not None:
            await runtime.runner.run(task)

    client.blocking_portal.call(run)


class SimulatedClock:
    """The read cache's clock: moves only when a request is made."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def measure(
    requests: int, connections: int, seeded: int, rate: float = 400.0, other_writes: bool = True
) -> dict[str, Any]:
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True, log_level="WARNING"))
    with TestClient(create_app(container)) as client:
        clock = SimulatedClock()
        reads = client.app.state.runtime.reads
        reads._clock = reads.cache._clock = clock  # both clocks of the in-process cache
        tenants = [Tenant(client, k, seeded, other_writes) for k in range(connections)]
        for k, t in enumerate(tenants, start=1):
            t.visits = (k * 53) % 144  # as experiments.py: each tenant starts elsewhere in the cycle
        drain(client)
        stats = client.app.state.runtime.reads.stats
        start = (stats.hits + stats.near_hits, stats.misses + stats.early_refreshes)
        counts = {"list": 0, "write": 0, "import": 0, "rule_edit": 0, "accounts": 0}
        by_read: dict[str, list[int]] = {}  # what was read: [hits, lookups]

        def looked(kind: str, before: int) -> None:
            seen = by_read.setdefault(kind, [0, 0])
            seen[0] += stats.hits + stats.near_hits - before
            seen[1] += 1

        for n in range(1, requests + 1):
            clock.now += 1 / rate
            t = tenants[n % len(tenants)]
            t.visits += 1
            i = t.visits
            roll = (i * 7919) % 100
            before = stats.hits + stats.near_hits
            if roll < 65:
                looked(t.list_request(i), before)
                counts["list"] += 1
            elif roll < 85 and other_writes and i % 10 == 3:
                t.import_statement(i)
                counts["import"] += 1
                drain(client)
            elif roll < 85 and other_writes and i % 10 == 7:
                t.edit_rule(i)
                counts["rule_edit"] += 1
                drain(client)
            elif roll < 85:
                t.post(
                    "/api/transactions",
                    {
                        "account_id": t.accounts[i % 4],
                        "booked_on": f"2026-11-{i % 28 + 1:02d}",
                        "description": f"PADARIA REAL {i}",
                        "amount": f"-{i % 90 + 1}.{i % 100:02d}",
                    },
                )
                counts["write"] += 1
                drain(client)
            else:
                assert client.get("/api/accounts", headers=t.headers).status_code == 200
                looked("accounts", before)
                counts["accounts"] += 1
        hits = stats.hits + stats.near_hits - start[0]
        misses = stats.misses + stats.early_refreshes - start[1]
    return {
        "requests": requests,
        "connections": connections,
        "seeded_per_tenant": seeded,
        "other_writes": other_writes,
        "simulated_rate": rate,
        **counts,
        "hits": hits,
        "misses": misses,
        "hit_ratio": hits / (hits + misses),
        "by_read": {kind: {"hits": h, "reads": n, "hit_ratio": h / n} for kind, (h, n) in sorted(by_read.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seeded", type=int, default=240, help="transactions per tenant before the run")
    parser.add_argument("--rate", type=float, default=400.0, help="simulated requests per second (all tenants)")
    parser.add_argument("--quick", action="store_true", help="2 connections, 600 requests (keeps the script working)")
    parser.add_argument("--output", type=Path, default=None, help="also write the result here (JSON)")
    parser.add_argument(
        "--other-writes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one write in ten an import and one a rule edit (--no-other-writes: transactions only, as before)",
    )
    args = parser.parse_args()
    if args.quick:
        args.requests, args.connections, args.seeded = 600, 2, 24
    result = measure(args.requests, args.connections, args.seeded, args.rate, args.other_writes)
    print(json.dumps(result, indent=2))
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"| {result['requests']:,} | {result['hits']:,} | {result['misses']:,} | {result['hit_ratio']:.1%} |",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
