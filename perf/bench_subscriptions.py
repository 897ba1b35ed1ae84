"""Subscription detection: precision and recall on generated histories with known answers.

Each history is one account over a year (seeded, reproducible). It holds true subscriptions —
monthly (day 1-31, moved off weekends like a bank does; some with one price rise, some with a
month missing, some billed abroad so the amount moves ±3 % with the rate), weekly,
yearly with two charges — and things that must not be found: a grocery store visited at random
with random amounts, irregular payees (restaurants, rides), one-off purchases, a monthly bill
whose amount varies widely (not a stable amount), a subscription that stopped months ago, and
a monthly charge paid on random days. The script runs the detector through the real use case
(``Valorize.find_subscriptions`` over the in-memory adapters) and counts, per history, true
positives (a found payee that is a subscription there), false positives and misses.

    .venv/bin/python perf/bench_subscriptions.py            # 200 histories
    .venv/bin/python perf/bench_subscriptions.py --quick    # 10 histories
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from valorize_adapters.memory import InMemoryBackend, ManualClock
from valorize_core import NewAccount, SignupRequest
from valorize_core.model.money import Money
from valorize_core.model.payees import payee_key
from valorize_core.model.transactions import Split, Transaction
from valorize_core.use_cases.queries.subscriptions import FoundSubscriptionsQuery

TODAY = date(2026, 12, 1)
START = TODAY - timedelta(days=365)
STREAMING = ["NETFLIX.COM", "SPOTIFY AB", "DISNEY PLUS", "YOUTUBE PREMIUM", "AMAZON PRIME", "HBO MAX",
             "ICLOUD STORAGE", "DROPBOX", "GYM SMARTFIT", "NYT DIGITAL", "DUOLINGO", "CHATGPT PLUS", "ADOBE CREATIVE",
             "XBOX GAME PASS"]  # fmt: skip
WEEKLY = ["HELLOFRESH BOX", "LAVANDERIA SEMANAL", "CESTA ORGANICA", "JORNAL DOMINICAL"]
YEARLY = ["DOMAIN RENEWAL GANDI", "ANTIVIRUS KASPERSKY", "IPVA SEGURO ANUAL", "AMAZON PRIME ANUAL"]
IRREGULAR = ["RESTAURANTE SABOR", "UBER TRIP", "IFOOD PEDIDO", "POSTO IPIRANGA", "FARMACIA PAGUE MENOS",
             "PADARIA REAL", "LIVRARIA CULTURA", "CINEMARK", "BAR DO ZE", "LOJAS AMERICANAS"]  # fmt: skip


def _weekday_shift(d: date) -> date:
    """A charge due on a weekend lands on the next Monday (what banks do)."""
    return d + timedelta(days=(7 - d.weekday()) % 7) if d.weekday() >= 5 else d


def _monthly_dates(day: int, first: date, last: date, rng: random.Random) -> list[date]:
    out, y, m = [], first.year, first.month
    while True:
        length = (date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)).day
        d = _weekday_shift(date(y, m, min(day, length))) if rng.random() < 0.7 else date(y, m, min(day, length))
        if d > last:
            return out
        if d >= first:
            out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


@dataclass
class History:
    rows: list[tuple[date, str, int]] = field(default_factory=list)
    truth: set[str] = field(default_factory=set)  # descriptions that are subscriptions


def generate(seed: int) -> History:
    rng = random.Random(seed)
    h = History()
    for name in rng.sample(STREAMING, rng.randint(2, 6)):
        price = rng.choice([1990, 2990, 3490, 4590, 5590, 1499, 999])
        start = START + timedelta(days=rng.randint(0, 150))
        rise_at = rng.randint(3, 8) if rng.random() < 0.3 else None
        skipped = rng.randint(2, 6) if rng.random() < 0.15 else None  # a failed payment: one month missing
        abroad = rng.random() < 0.2  # billed in dollars: the amount in reais moves with the rate (±3 %)
        for i, d in enumerate(_monthly_dates(rng.randint(1, 31), start, TODAY, rng)):
            if rise_at is not None and i == rise_at:
                price = price * rng.choice([110, 115, 120]) // 100
            if i != skipped:
                h.rows.append((d, name, -(price * rng.randint(97, 103) // 100 if abroad else price)))
        h.truth.add(name)
    for name in rng.sample(WEEKLY, rng.randint(0, 1)):
        price, d = rng.choice([8990, 4500, 3200]), START + timedelta(days=rng.randint(150, 250))
        while d <= TODAY:
            h.rows.append((d, name, -price))
            d += timedelta(days=7)
        h.truth.add(name)
    for name in rng.sample(YEARLY, rng.randint(0, 1)):
        price, first = rng.choice([9900, 19900, 4990]), TODAY - timedelta(days=rng.randint(370, 400))
        h.rows += [(first, name, -price), (first + timedelta(days=365 + rng.randint(-3, 3)), name, -price)]
        h.truth.add(name)
    # Noise that must not be found.
    d = START
    while d <= TODAY:  # groceries: every 2-9 days, amounts all over
        h.rows.append((d, "SUPERMERCADO EXTRA", -rng.randint(2000, 60000)))
        d += timedelta(days=rng.randint(2, 9))
    for name in IRREGULAR:
        for _ in range(rng.randint(0, 14)):
            h.rows.append((START + timedelta(days=rng.randint(0, 365)), name, -rng.randint(1500, 30000)))
    for i in range(rng.randint(5, 20)):
        h.rows.append(
            (START + timedelta(days=rng.randint(0, 365)), f"COMPRA UNICA LOJA{chr(65 + i)}", -rng.randint(5000, 90000))
        )
    bill_day = rng.randint(5, 25)  # electricity: monthly, amounts vary by ±40 %
    for dd in _monthly_dates(bill_day, START, TODAY, rng):
        h.rows.append((dd, "ENEL ENERGIA", -rng.randint(9000, 21000)))
    stopped = rng.choice(STREAMING) + " OLD"  # cancelled five months ago
    for dd in _monthly_dates(rng.randint(1, 28), START, TODAY - timedelta(days=150), rng):
        h.rows.append((dd, stopped, -2990))
    for m in range(1, 13):  # a monthly transfer-like charge on random days of the month
        h.rows.append((date(2025, 12, 1) + timedelta(days=30 * (m - 1) + rng.randint(0, 27)), "ALUGUEL VAGA", -35000))
    for dd in _monthly_dates(5, START, TODAY, rng):  # salary: income, never a subscription
        h.rows.append((dd, "SALARIO ACME", 800000))
    return h


async def measure(count: int) -> dict[str, object]:
    backend = InMemoryBackend(clock=ManualClock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)))
    vz = backend.app
    tp = fp = fn = 0
    false_positives: dict[str, int] = {}
    misses: dict[str, int] = {}
    elapsed = 0.0
    rows = 0
    for seed in range(count):
        h = generate(seed)
        signup = await vz.signup(SignupRequest(f"T{seed}", f"bench{seed}@example.com", "B"))
        tenant = signup.tenant.id
        account = await vz.create_account(NewAccount(tenant, "Main", "checking", "BRL", "0"))
        now = backend.ports.clock.now()
        txs = [
            Transaction(backend.ports.ids.new_id(), tenant, account.id, d, text, text, Money(minor, "BRL"),
                        (Split(None, Money(minor, "BRL")),), now, now)
            for d, text, minor in h.rows
        ]  # fmt: skip
        async with backend.ports.uow(tenant) as uow:  # seeding only: the detection runs through the use case
            await uow.transactions.add_many(txs)
            await uow.commit()
        rows += len(txs)
        started = time.process_time()
        found = await vz.find_subscriptions(FoundSubscriptionsQuery(tenant))
        elapsed += time.process_time() - started
        names = {f.payee_key for f in found}
        truth = {payee_key(n) for n in h.truth}
        for n in names:
            if n in truth:
                tp += 1
            else:
                fp += 1
                false_positives[n] = false_positives.get(n, 0) + 1
        for n in truth - names:
            fn += 1
            misses[n] = misses.get(n, 0) + 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "histories": count, "transactions": rows, "subscriptions": tp + fn, "true_positives": tp,
        "false_positives": fp, "misses": fn, "precision": round(precision, 4), "recall": round(recall, 4),
        "cpu_ms_per_history": round(elapsed * 1000 / count, 2),
        "false_positive_payees": dict(sorted(false_positives.items(), key=lambda kv: -kv[1])[:10]),
        "missed_payees": dict(sorted(misses.items(), key=lambda kv: -kv[1])[:10]),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 histories")
    parser.add_argument("--histories", type=int, default=200)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "subscriptions.json")
    args = parser.parse_args()
    numbers = asyncio.run(measure(10 if args.quick else args.histories))
    print("| measure | result |\n|---|---|")
    for key in ("histories", "transactions", "subscriptions", "true_positives", "false_positives", "misses",
                "precision", "recall", "cpu_ms_per_history"):  # fmt: skip
        print(f"| {key} | {numbers[key]} |")
    print(f"\nfalse positives by payee: {numbers['false_positive_payees']}\nmissed: {numbers['missed_payees']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(numbers, indent=2) + "\n")


if __name__ == "__main__":
    main()
