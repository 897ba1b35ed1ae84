"""The write path's CPU per request, in-process: what a commit and its pipeline cost.

    python perf/bench_write_path.py [--writes 3000] [--rounds 5] [--quick] [--output FILE]

The memory backend with the in-process read cache (``valorize dev --memory``'s wiring, built by
the container), so nothing but this process's CPU is measured: no database, no network. Two
measures, each the median over ``--rounds`` rounds of CPU seconds (``time.process_time``, every
thread of the process) per write:

* ``http``: ``POST /api/transactions`` through Litestar's ``TestClient`` (the test client's own
  HTTP work included, the same before and after any change);
* ``use_case``: ``CreateTransaction`` through the container's application (the commit pipeline
  and everything around the unit of work, without HTTP);
* ``commit``: a bare unit of work of the container's application: open, record one event,
  commit, leave — the commit pipeline itself (cache hold and retirement, the relay publishing
  the event and marking it) around the memory adapter's commit.

Each round writes to 10 new tenants of one account each, in turn, so every round works on
tenants of the same sizes (up to ``writes / 10`` transactions). Logging below warnings is off.
Results: a Markdown table and perf/results/write_path.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from valorize_core import NewTransaction
from valorize_core.model.events import AccountBalanceChanged
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

TENANTS = 10


def signed_up_tenants(client: TestClient[Any]) -> list[tuple[dict[str, str], str, str]]:
    """``TENANTS`` tenants signed up through the API, each with a checking account: (auth headers,
    tenant id, account id)."""
    made = []
    for n in range(TENANTS):
        body = {"tenant_name": f"Bench {n}", "email": f"{uuid.uuid4().hex}@example.com", "name": "B"}
        signed = client.post("/api/signup", json=body).json()
        headers = {"Authorization": f"Bearer {signed['token']}"}
        account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "1000.00"}
        created = client.post("/api/accounts", json=account, headers=headers)
        assert created.status_code == 201, created.text
        made.append((headers, signed["tenant_id"], created.json()["id"]))
    return made


def _http_round(client: TestClient[Any], tenants: list[tuple[dict[str, str], str, str]], writes: int) -> float:
    started = time.process_time()
    for n in range(writes):
        headers, _, account = tenants[n % TENANTS]
        body = {"account_id": account, "booked_on": "2026-03-01", "description": f"Padaria {n % 50}", "amount": "-1.25"}
        response = client.post("/api/transactions", json=body, headers=headers)
        assert response.status_code == 201, response.text
    return (time.process_time() - started) / writes


def _use_case_round(client: TestClient[Any], tenants: list[tuple[dict[str, str], str, str]], writes: int) -> float:
    vz = client.app.state.runtime.app
    ids = [(uuid.UUID(tenant), uuid.UUID(account)) for _, tenant, account in tenants]
    commands = [
        NewTransaction(*ids[n % TENANTS], date(2026, 3, 1), f"Padaria {n % 50}", "-1.25") for n in range(writes)
    ]

    async def go() -> float:
        started = time.process_time()
        for command in commands:
            await vz.create_transaction(command)
        return (time.process_time() - started) / writes

    return float(client.blocking_portal.call(go))


def _commit_round(client: TestClient[Any], tenants: list[tuple[dict[str, str], str, str]], writes: int) -> float:
    vz = client.app.state.runtime.app
    ids = [uuid.UUID(tenant) for _, tenant, _ in tenants]

    async def go() -> float:
        started = time.process_time()
        for n in range(writes):
            tenant = ids[n % TENANTS]
            async with vz.ports.uow(tenant) as uow:
                uow.record(vz.ports.event(AccountBalanceChanged, tenant, account_id="a", balance_minor=n,
                                          currency="BRL"))  # fmt: skip
                await uow.commit()
        return (time.process_time() - started) / writes

    return float(client.blocking_portal.call(go))


def measure(writes: int, rounds: int) -> dict[str, Any]:
    """Median CPU milliseconds per write, over ``rounds`` rounds of each measure."""
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True))
    with TestClient(create_app(container)) as client:
        _http_round(client, signed_up_tenants(client), min(writes, 200))  # warm up: imports, first compilations
        http = [_http_round(client, signed_up_tenants(client), writes) for _ in range(rounds)]
        use_case = [_use_case_round(client, signed_up_tenants(client), writes) for _ in range(rounds)]
        commit = [_commit_round(client, signed_up_tenants(client), writes) for _ in range(rounds)]
    return {
        "writes_per_round": writes,
        "rounds": rounds,
        "http_cpu_ms_per_write": statistics.median(http) * 1000,
        "use_case_cpu_ms_per_write": statistics.median(use_case) * 1000,
        "commit_cpu_ms_per_write": statistics.median(commit) * 1000,
        "http_rounds_ms": [r * 1000 for r in http],
        "use_case_rounds_ms": [r * 1000 for r in use_case],
        "commit_rounds_ms": [r * 1000 for r in commit],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the access log's lines would be most of the output
    if args.quick:
        args.writes, args.rounds = 100, 1
    result = measure(args.writes, args.rounds)
    name = "write_path-quick.json" if args.quick else "write_path.json"
    output = args.output or Path(__file__).parent / "results" / name
    output.write_text(json.dumps(result, indent=2) + "\n")
    print("| measure | CPU per write (median of rounds) |")
    print("|---|---|")
    print(f"| POST /api/transactions (TestClient) | {result['http_cpu_ms_per_write']:.3f} ms |")
    print(f"| CreateTransaction (container's app) | {result['use_case_cpu_ms_per_write']:.3f} ms |")
    print(f"| bare unit of work: record, commit, leave | {result['commit_cpu_ms_per_write']:.3f} ms |")


if __name__ == "__main__":
    main()
