"""Realistic demo data for a tenant: accounts, a category tree, rules, budgets, a year of spending."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

from valorize_core import BudgetInput, NewAccount, NewCategory, NewRule, NewTransaction, NewTransfer, Valorize
from valorize_core.model.rules import Condition, ConditionGroup, Field, Match, Operator, SetCategory
from valorize_core.use_cases.queries.list_accounts import AccountsQuery

__all__ = ["seed_demo"]

# (category path, payees, typical amount range in reais, times per month)
SPENDING = [
    ("Food/Groceries", ["COMPRA CARTAO {card} SUPERMERCADO ZAFFARI {d}", "MERCADO SAO JOAO {d}"], (60, 420), 6),
    ("Food/Restaurants", ["IFOOD *RESTAURANTE SABOR", "COMPRA CARTAO {card} PADARIA REAL {d}"], (18, 140), 8),
    ("Transport", ["UBER *TRIP {d}", "99 *CORRIDA", "POSTO IPIRANGA {card}"], (12, 230), 7),
    ("Home/Utilities", ["DEB AUTOM CEEE ENERGIA", "DEB AUTOM CORSAN AGUA", "VIVO FIBRA INTERNET"], (80, 260), 3),
    ("Health", ["FARMACIA SAO JOAO {d}", "UNIMED MENSALIDADE"], (25, 650), 2),
    ("Leisure", ["NETFLIX.COM", "SPOTIFY BRASIL", "CINEMARK {d}", "LIVRARIA CULTURA"], (20, 180), 3),
]
CATEGORIES = ["Food", "Food/Groceries", "Food/Restaurants", "Transport", "Home", "Home/Rent", "Home/Utilities",
              "Health", "Leisure"]  # fmt: skip


async def seed_demo(
    vz: Valorize, tenant_id: UUID, *, months: int = 12, progress: Callable[[int, int], None] | None = None
) -> int:
    """Load demo data into an empty tenant; returns the number of transactions created."""
    rng = random.Random(2026)
    if await vz.list_accounts(AccountsQuery(tenant_id, include_archived=True)):
        return 0  # already has data: never mix demo rows into real books
    checking = (await vz.create_account(NewAccount(tenant_id, "Conta corrente", "checking", "BRL", "3200.00"))).id
    savings = (await vz.create_account(NewAccount(tenant_id, "Poupança", "savings", "BRL", "15000.00"))).id
    card = (await vz.create_account(NewAccount(tenant_id, "Cartão de crédito", "credit_card", "BRL", "0"))).id
    ids: dict[str, UUID] = {}
    for path in CATEGORIES:
        parent, _, name = path.rpartition("/")
        ids[path] = (await vz.create_category(NewCategory(tenant_id, name, "expense", ids.get(parent)))).id
    ids["Salary"] = (await vz.create_category(NewCategory(tenant_id, "Salary", "income"))).id
    for word, path in (("uber", "Transport"), ("netflix", "Leisure"), ("zaffari", "Food/Groceries")):
        group = ConditionGroup(Match.ALL, (Condition(Field.DESCRIPTION, Operator.CONTAINS, word),))
        await vz.create_rule(NewRule(tenant_id, f"{word} is {path}", group, (SetCategory(ids[path]),)))
    start = date.today().replace(day=1) - timedelta(days=30 * (months - 1))
    start = start.replace(day=1)
    for path, limit in (("Food", "1800.00"), ("Transport", "600.00"), ("Leisure", "250.00")):
        await vz.set_budget(BudgetInput(tenant_id, ids[path], limit, "BRL", rollover="carry_unspent", starts_on=start))
    plan: list[NewTransaction | NewTransfer] = []
    for m in range(months):
        month = (start + timedelta(days=31 * m)).replace(day=1)
        plan.append(NewTransaction(tenant_id, checking, month + timedelta(days=4), "SALARIO ACME LTDA", "8500.00",
                                   category_id=ids["Salary"]))  # fmt: skip
        plan.append(NewTransaction(tenant_id, checking, month + timedelta(days=9), "ALUGUEL APTO", "-2400.00",
                                   category_id=ids["Home/Rent"]))  # fmt: skip
        plan.append(NewTransfer(tenant_id, checking, savings, "500.00", month + timedelta(days=5), "Guardar"))
        for path, payees, (low, high), times in SPENDING:
            for _ in range(times):
                day = month + timedelta(days=rng.randrange(28))
                text = rng.choice(payees).format(card=rng.randrange(1000, 9999), d=day.strftime("%d/%m"))
                cents = rng.randrange(low * 100, high * 100)
                account = card if rng.random() < 0.6 else checking
                # Most rows arrive uncategorized, as from a bank; a person categorized some.
                known = ids[path] if rng.random() < 0.5 else None
                plan.append(NewTransaction(tenant_id, account, day, text, f"-{cents // 100}.{cents % 100:02d}",
                                           category_id=known))  # fmt: skip
    today = date.today()
    plan = [p for p in plan if p.booked_on <= today]
    for done, item in enumerate(plan, start=1):
        if isinstance(item, NewTransfer):
            await vz.create_transfer(item)
        else:
            await vz.create_transaction(item)
        if progress is not None:
            progress(done, len(plan))
    return len(plan)
