"""The same random operations through the use cases, on memory and on PostgreSQL, compared.

Both sides get the same seeded ids and the same manual clock, so they must produce equal
entities, equal pages, equal reports and the same domain errors, step after step.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from valorize_adapters.memory import ManualClock
from valorize_adapters.memory.store import MemoryStore
from valorize_adapters.memory.unit_of_work import MemoryDirectory, MemoryUnitOfWorkFactory
from valorize_adapters.postgres import PostgresBackend, PostgresDirectory, PostgresUnitOfWorkFactory
from valorize_adapters.recurrence.rrule import DateutilRecurrence
from valorize_core import (
    BudgetInput,
    ForecastQuery,
    FoundSubscriptionsQuery,
    NewAccount,
    NewCategory,
    NewRates,
    NewRule,
    NewSchedule,
    NewTransaction,
    NewTransfer,
    RateInput,
    SchedulePosting,
    SignupRequest,
    SplitInput,
    TransactionQuery,
    Valorize,
)
from valorize_core.model.errors import DomainError
from valorize_core.model.rules import Condition, ConditionGroup, Field, Match, Operator, SetCategory
from valorize_core.model.statements import CsvMapping, parse_csv
from valorize_core.model.transaction_view import transaction_view
from valorize_core.testing.ids import SeededIds
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.apply_rules import RetroactiveApply
from valorize_core.use_cases.actions.check_balances import BalanceCheck
from valorize_core.use_cases.actions.correct_category import CategoryCorrection
from valorize_core.use_cases.actions.delete_category import CategoryDeletion
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.evaluate_budgets import BudgetEvaluation
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.budget_status import BudgetStatusQuery
from valorize_core.use_cases.queries.list_accounts import AccountsQuery
from valorize_core.use_cases.queries.list_schedules import SchedulesQuery
from valorize_core.use_cases.queries.list_transactions import TransactionViewPage
from valorize_core.use_cases.queries.reports import ReportQuery

pytestmark = pytest.mark.slow

DAYS = st.integers(0, 90).map(lambda d: date(2026, 1, 1) + timedelta(days=d))
AMOUNTS = st.integers(-80_000, 40_000).map(lambda m: f"{'-' if m < 0 else ''}{abs(m) // 100}.{abs(m) % 100:02d}")
WORDS = st.sampled_from(["PADARIA REAL", "UBER TRIP", "MERCADO SAO JOAO", "NETFLIX", "SALARIO ACME", "PIX JOAO"])
MAPPING = CsvMapping("date", "text", amount_column="amount")


TAGS = ["trip", "work", "home"]
NO_SUCH_ACCOUNT = uuid.UUID("00000000-0000-7000-8000-000000000001")  # lists nothing on both sides


@dataclass
class Outcome:
    value: Any = None
    error: type[DomainError] | None = None


def both(machine: Parity, call: Any) -> Any:
    """Run ``call(app)`` on both sides; they must agree on the value or on the error class."""
    results = []
    for app in (machine.memory, machine.postgres):
        try:
            results.append(Outcome(run(call(app))))
        except DomainError as exc:
            results.append(Outcome(error=type(exc)))
    mem, pg = results
    assert mem.error == pg.error, f"memory raised {mem.error}, postgres raised {pg.error}"
    assert mem.value == pg.value
    return mem.value


class Parity(RuleBasedStateMachine):
    backend: PostgresBackend  # set by the test

    @initialize()
    def setup(self) -> None:
        # os.urandom, not random: Hypothesis seeds random, and replays must not reuse an e-mail.
        seed, now_ms = uuid.uuid4().int >> 64, int(time.time() * 1000)
        clock = ManualClock()
        self.memory = Valorize(
            Ports(
                MemoryUnitOfWorkFactory(store := MemoryStore()),
                clock,
                SeededIds(seed, now_ms),
                MemoryDirectory(store),
                recurrence=DateutilRecurrence(),
            )
        )
        pool = self.backend.pool
        self.postgres = Valorize(
            Ports(
                PostgresUnitOfWorkFactory(pool),
                clock,
                SeededIds(seed, now_ms),
                PostgresDirectory(pool),
                recurrence=DateutilRecurrence(),
            )
        )
        email = f"parity-{seed}@example.com"
        signups = [run(app.signup(SignupRequest("Parity", email, "P"))) for app in (self.memory, self.postgres)]
        assert signups[0].tenant == signups[1].tenant
        self.tenant = signups[0].tenant.id
        self.accounts: list[UUID] = []
        self.categories: list[UUID] = []
        self.transactions: list[UUID] = []
        # Start with something to work on, so every step can reach interesting states.
        for name, currency in (("Main", "BRL"), ("Spare", "BRL"), ("Travel", "USD")):
            self.open_account(name, currency)
        for name in ("Groceries", "Rent"):
            self.add_category(name, nested=False)

    @rule(name=st.sampled_from(["Checking", "Savings", "checking", "Card"]), currency=st.sampled_from(["BRL", "USD"]))
    def open_account(self, name: str, currency: str) -> None:
        account = both(
            self, lambda app: app.create_account(NewAccount(self.tenant, name, "checking", currency, "100.00"))
        )
        if account is not None:
            self.accounts.append(account.id)

    @rule(name=st.sampled_from(["Food", "Home", "Transport", "food"]), nested=st.booleans())
    def add_category(self, name: str, nested: bool) -> None:
        parent = self.categories[0] if nested and self.categories else None
        category = both(self, lambda app: app.create_category(NewCategory(self.tenant, name, "expense", parent)))
        if category is not None:
            self.categories.append(category.id)

    @rule(data=st.data(), amount=AMOUNTS, day=DAYS, text=WORDS, split=st.booleans())
    def record(self, data: st.DataObject, amount: str, day: date, text: str, split: bool) -> None:
        if not self.accounts:
            return
        account = data.draw(st.sampled_from(self.accounts))
        category = data.draw(st.sampled_from([None, *self.categories]))
        splits: tuple[SplitInput, ...] = ()
        if split and category is not None:
            splits, category = (SplitInput(amount, category, "all of it"),), None
        tags = tuple(data.draw(st.lists(st.sampled_from(TAGS), max_size=2)))
        tx = both(self, lambda app: app.create_transaction(
            NewTransaction(self.tenant, account, day, text, amount, splits, category, tags=tags)
        ))  # fmt: skip
        if tx is not None:
            self.transactions.append(tx.id)

    @precondition(lambda self: bool(self.transactions))
    @rule(data=st.data(), amount=st.none() | AMOUNTS, day=st.none() | DAYS)
    def edit(self, data: st.DataObject, amount: str | None, day: date | None) -> None:
        if not self.transactions:
            return
        tx = data.draw(st.sampled_from(self.transactions))
        category = data.draw(st.sampled_from([None, "none", *self.categories]))
        both(self, lambda app: app.update_transaction(
            TransactionChanges(self.tenant, tx, booked_on=day, amount=amount, category_id=category)
        ))  # fmt: skip

    @precondition(lambda self: bool(self.transactions))
    @rule(data=st.data())
    def correct(self, data: st.DataObject) -> None:
        if self.transactions and self.categories:
            tx, cat = data.draw(st.sampled_from(self.transactions)), data.draw(st.sampled_from(self.categories))
            both(self, lambda app: app.correct_category(CategoryCorrection(self.tenant, tx, cat)))

    @precondition(lambda self: bool(self.transactions))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if self.transactions:
            tx = data.draw(st.sampled_from(self.transactions))
            both(self, lambda app: app.delete_transaction(TransactionDeletion(self.tenant, tx)))

    @rule(data=st.data(), amount=st.integers(1, 50_000), day=DAYS, rate=st.sampled_from([None, "0.19", "5.3"]))
    def transfer(self, data: st.DataObject, amount: int, day: date, rate: str | None) -> None:
        if len(self.accounts) >= 2:
            a, b = data.draw(st.sampled_from(self.accounts)), data.draw(st.sampled_from(self.accounts))
            command = NewTransfer(self.tenant, a, b, f"{amount / 100:.2f}", day, rate=rate)
            both(self, lambda app: app.create_transfer(command))

    @rule(day=DAYS, rate=st.sampled_from(["5.1", "5.25", "0.19"]))
    def set_rate(self, day: date, rate: str) -> None:
        both(self, lambda app: app.set_rates(NewRates(self.tenant, (RateInput("USD", "BRL", day, rate),))))

    @rule(data=st.data(), word=st.sampled_from(["uber", "mercado", "netflix"]))
    def add_rule(self, data: st.DataObject, word: str) -> None:
        if self.categories:
            cat = data.draw(st.sampled_from(self.categories))
            group = ConditionGroup(Match.ALL, (Condition(Field.DESCRIPTION, Operator.CONTAINS, word),))
            both(self, lambda app: app.create_rule(NewRule(self.tenant, f"rule {word}", group, (SetCategory(cat),))))

    @precondition(lambda self: len(self.transactions) > 2)
    @rule()
    def apply_rules(self) -> None:
        both(self, lambda app: app.apply_rules(RetroactiveApply(self.tenant)))

    @rule(data=st.data(), limit=st.sampled_from(["50.00", "500.00"]))
    def budget(self, data: st.DataObject, limit: str) -> None:
        if self.categories:
            cat = data.draw(st.sampled_from(self.categories))
            both(
                self,
                lambda app: app.set_budget(BudgetInput(self.tenant, cat, limit, "BRL", starts_on=date(2026, 1, 1))),
            )
            both(self, lambda app: app.evaluate_budgets(BudgetEvaluation(self.tenant, date(2026, 2, 15))))

    @rule(data=st.data())
    def delete_category(self, data: st.DataObject) -> None:
        if self.categories:
            cat = data.draw(st.sampled_from(self.categories))
            both(self, lambda app: app.delete_category(CategoryDeletion(self.tenant, cat)))

    @rule(data=st.data(), rows=st.lists(st.tuples(DAYS, AMOUNTS, WORDS), max_size=6), broken=st.booleans())
    def import_csv(self, data: st.DataObject, rows: list[tuple[date, str, str]], broken: bool) -> None:
        if not self.accounts:
            return
        account = data.draw(st.sampled_from(self.accounts))
        text = "date,text,amount\n" + "".join(f"{d.isoformat()},{w},{a}\n" for d, a, w in rows)
        if broken:
            text += "2026-13-01,BAD,1.00\n"
        parsed = parse_csv(text, MAPPING, "BRL")
        both(self, lambda app: app.import_statement(StatementUpload(self.tenant, account, "s.csv", parsed)))

    @rule(
        data=st.data(),
        amount=AMOUNTS,
        start=DAYS,
        rule_text=st.sampled_from(["FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=DAILY;INTERVAL=9",
                                   "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=HOURLY"]),
        post_on=DAYS,
    )  # fmt: skip
    def schedule(self, data: st.DataObject, amount: str, start: date, rule_text: str, post_on: date) -> None:
        if not self.accounts:
            return
        account = data.draw(st.sampled_from([*self.accounts, NO_SUCH_ACCOUNT]))
        category = data.draw(st.sampled_from([None, *self.categories]))
        both(self, lambda app: app.create_schedule(
            NewSchedule(self.tenant, account, "Plan", amount, rule_text, start, category_id=category)
        ))  # fmt: skip
        both(self, lambda app: app.post_schedules(SchedulePosting(self.tenant, post_on)))
        both(self, lambda app: app.check_balances(BalanceCheck(self.tenant, post_on)))
        both(self, lambda app: app.list_schedules(SchedulesQuery(self.tenant)))

    def walk(self, limit: int, **filters: Any) -> int:
        """Page through a filtered list on both sides; return how many rows were seen."""
        cursor, seen = None, 0
        for _ in range(100):
            query = TransactionQuery(self.tenant, cursor=cursor, limit=limit, **filters)
            page = both(self, lambda app, query=query: app.list_transactions(query))
            # The list route's read model, on each side: the same page, each row the view of that side's
            # transaction. (Not compared across sides: a confidence spells its stored scale, 0.000 in
            # PostgreSQL's numeric(4, 3), as the API always showed it; the entities above compare by value.)
            for app in (self.memory, self.postgres):
                mine = run(app.list_transactions(query))
                views = run(app.list_transactions.views(query))
                assert views == TransactionViewPage([transaction_view(t) for t in mine.items], mine.next_cursor)
            seen += len(page.items)
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor
        raise AssertionError("pagination did not end")

    @precondition(lambda self: bool(self.transactions))
    @rule(data=st.data(), limit=st.integers(1, 6))
    def page_through(self, data: st.DataObject, limit: int) -> None:
        account = data.draw(st.sampled_from([None, *self.accounts, NO_SUCH_ACCOUNT]))
        category = data.draw(st.sampled_from([None, *self.categories]))
        text = data.draw(st.sampled_from([None, "uber", "são", "JOAO"]))
        amount_min = data.draw(st.sampled_from([None, "-10.00", "0"]))
        tags = tuple(data.draw(st.lists(st.sampled_from(TAGS), max_size=2)))
        tag_match = data.draw(st.sampled_from(["any", "all"]))
        self.walk(limit, account_id=account, category_id=category, text=text, amount_min=amount_min, tags=tags,
                  tag_match=tag_match)  # fmt: skip

    @invariant()
    def reads_agree(self) -> None:
        if not hasattr(self, "tenant"):
            return
        both(self, lambda app: app.list_accounts(AccountsQuery(self.tenant, include_archived=True)))
        self.walk(4)
        self.walk(3, text="uber")
        self.walk(5, category_id=self.categories[0], uncategorized=False)
        both(self, lambda app: app.budget_status(BudgetStatusQuery(self.tenant, date(2026, 3, 1))))
        both(
            self,
            lambda app: app.report(ReportQuery(self.tenant, "spend_by_category", date(2026, 1, 1), date(2026, 4, 1))),
        )
        both(self, lambda app: app.report(ReportQuery(self.tenant, "net_worth", date(2026, 1, 1), date(2026, 4, 1))))
        for kind in ("spend_by_category", "net_worth", "spend_by_tag"):
            query = ReportQuery(self.tenant, kind, date(2026, 1, 1), date(2026, 4, 1), "BRL")
            both(self, lambda app, query=query: app.report(query))
        both(self, lambda app: app.forecast(ForecastQuery(self.tenant, days=60, estimate=True)))
        both(self, lambda app: app.find_subscriptions(FoundSubscriptionsQuery(self.tenant)))


def test_memory_and_postgres_agree(pg_backend: PostgresBackend) -> None:
    Parity.backend = pg_backend
    runner = Parity.TestCase
    runner.settings = settings(
        max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    runner("runTest").runTest()
