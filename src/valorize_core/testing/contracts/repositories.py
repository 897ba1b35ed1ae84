"""Contracts of the account, category, budget, rule, import, job, notification and payee-memory
repositories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.errors import Conflict, NotFound, ValidationError
from valorize_core.model.jobs import Job, JobStatus
from valorize_core.model.money import Money
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.model.rules import (
    AddTag,
    Condition,
    ConditionGroup,
    Field,
    Match,
    Operator,
    RenamePayee,
    Rule,
    SetCategory,
    SplitBy,
    SplitPart,
)
from valorize_core.model.statements.imports import ImportStatus, RowError, StatementImport
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = [
    "AccountRepositoryContract",
    "BudgetRepositoryContract",
    "CategoryRepositoryContract",
    "ImportRepositoryContract",
    "JobRepositoryContract",
    "NotificationRepositoryContract",
    "PayeeMemoryContract",
    "RuleRepositoryContract",
    "RuleSuggestionRepositoryContract",
]


class AccountRepositoryContract(PortsContract):
    def test_account_round_trip_and_order(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        b, a = self.account(t, "b savings", opening=500), self.account(t, "A checking", "USD", -250)
        self.add_all(ports, t, b, a)
        assert self.read(ports, t, lambda uow: uow.accounts.get(a.id)) == a
        assert self.read(ports, t, lambda uow: uow.accounts.list()) == [a, b]
        assert self.read(ports, t, lambda uow: uow.accounts.get(self.new_id())) is None

    def test_lock_returns_the_accounts_as_stored_in_id_order(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        a, b = self.account(t, "A", opening=100), self.account(t, "B")
        self.add_all(ports, t, a, b)
        self.write(ports, t, lambda uow: uow.accounts.apply_balance_delta(a.id, 5))
        locked = self.write(ports, t, lambda uow: uow.accounts.lock([b.id, self.new_id(), a.id]))
        assert [x.id for x in locked] == sorted([a.id, b.id])
        assert {x.id: x.balance.minor for x in locked} == {a.id: 105, b.id: 0}
        other = self.new_tenant(ports)
        assert self.write(ports, other, lambda uow: uow.accounts.lock([a.id])) == []

    def test_account_names_are_unique_case_insensitively(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        self.write(ports, t, lambda uow: uow.accounts.add(self.account(t, "Wallet")))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.accounts.add(self.account(t, "WALLET")))
        other = self.new_tenant(ports)  # another tenant may use the name
        self.write(ports, other, lambda uow: uow.accounts.add(self.account(other, "Wallet")))

    def test_update_never_touches_the_balance(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t, opening=1000)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        moved = self.write(ports, t, lambda uow: uow.accounts.apply_balance_delta(acc.id, 234))
        assert moved.balance == Money(1234, "BRL")
        renamed = replace(acc, name="Renamed", archived=True, balance=Money(0, "BRL"))
        self.write(ports, t, lambda uow: uow.accounts.update(renamed))
        stored = self.read(ports, t, lambda uow: uow.accounts.get(acc.id))
        assert stored is not None
        assert (stored.name, stored.archived, stored.balance.minor) == ("Renamed", True, 1234)

    def test_balance_deltas_accumulate_and_unknown_accounts_raise(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        for delta in (100, -250, 7):

            async def move(uow: UnitOfWork, d: int = delta) -> Account:
                return await uow.accounts.apply_balance_delta(acc.id, d)

            self.write(ports, t, move)
        assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)).balance.minor == -143  # type: ignore[union-attr]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.accounts.apply_balance_delta(self.new_id(), 1))

    def test_account_with_transactions_cannot_be_removed(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc, empty = self.account(t), self.account(t, "Empty")
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        self.write(ports, t, lambda uow: uow.accounts.add(empty))
        self.write(ports, t, lambda uow: uow.transactions.add(self.transaction(t, acc)))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.accounts.remove(acc.id))
        self.write(ports, t, lambda uow: uow.accounts.remove(empty.id))
        assert self.read(ports, t, lambda uow: uow.accounts.get(empty.id)) is None
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.accounts.remove(empty.id))


class CategoryRepositoryContract(PortsContract):
    def test_category_tree_round_trip(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food = self.category(t, "Food")
        groceries = self.category(t, "groceries", food.id)
        self.write(ports, t, lambda uow: uow.categories.add(food))
        self.write(ports, t, lambda uow: uow.categories.add(groceries))
        assert self.read(ports, t, lambda uow: uow.categories.list()) == [food, groceries]
        moved = replace(groceries, parent_id=None, name="Groceries")
        self.write(ports, t, lambda uow: uow.categories.update(moved))
        assert self.read(ports, t, lambda uow: uow.categories.get(groceries.id)) == moved

    def test_unknown_parent_and_duplicate_sibling_are_refused(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food = self.category(t, "Food")
        self.write(ports, t, lambda uow: uow.categories.add(food))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.categories.add(self.category(t, "X", self.new_id())))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.categories.add(self.category(t, "FOOD")))
        self.write(ports, t, lambda uow: uow.categories.add(self.category(t, "Food", food.id)))  # not a sibling

    def test_a_used_category_cannot_be_removed(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food, home = self.category(t, "Food"), self.category(t, "Home")
        acc = self.account(t)
        self.add_all(ports, t, food, home, acc)
        self.write(ports, t, lambda uow: uow.transactions.add(self.transaction(t, acc, categories=(food.id,))))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.categories.remove(food.id))
        self.write(ports, t, lambda uow: uow.categories.remove(home.id))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.categories.remove(home.id))


class BudgetRepositoryContract(PortsContract):
    def _budget(self, t: object, category: object, period: str = "month") -> Budget:
        return Budget(self.new_id(), t, category, period, Money(50000, "BRL"), "carry_unspent", date(2026, 1, 1), NOW)  # type: ignore[arg-type]

    def test_budget_round_trip_and_uniqueness(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food = self.category(t)
        self.write(ports, t, lambda uow: uow.categories.add(food))
        monthly = self._budget(t, food.id)
        self.write(ports, t, lambda uow: uow.budgets.add(monthly))
        assert self.read(ports, t, lambda uow: uow.budgets.get(monthly.id)) == monthly
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.budgets.add(self._budget(t, food.id)))
        weekly = self._budget(t, food.id, "week")
        self.write(ports, t, lambda uow: uow.budgets.add(weekly))
        changed = replace(monthly, limit=Money(1, "BRL"), thresholds=(50, 90, 100))
        self.write(ports, t, lambda uow: uow.budgets.update(changed))
        assert self.read(ports, t, lambda uow: uow.budgets.list()) == sorted(
            [changed, weekly], key=lambda b: (b.created_at, b.id)
        )
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.budgets.add(self._budget(t, self.new_id(), "year")))

    def test_thresholds_are_announced_once(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food = self.category(t)
        self.write(ports, t, lambda uow: uow.categories.add(food))
        b = self._budget(t, food.id)
        self.write(ports, t, lambda uow: uow.budgets.add(b))
        march = date(2026, 3, 1)
        assert self.write(ports, t, lambda uow: uow.budgets.announce_threshold(b.id, march, 80)) is True
        assert self.write(ports, t, lambda uow: uow.budgets.announce_threshold(b.id, march, 80)) is False
        self.write(ports, t, lambda uow: uow.budgets.announce_threshold(b.id, march, 100))
        assert self.read(ports, t, lambda uow: uow.budgets.announced_thresholds(b.id, march)) == {80, 100}
        assert self.read(ports, t, lambda uow: uow.budgets.announced_thresholds(b.id, date(2026, 4, 1))) == set()
        self.write(ports, t, lambda uow: uow.budgets.remove(b.id))
        assert self.read(ports, t, lambda uow: uow.budgets.get(b.id)) is None


class RuleRepositoryContract(PortsContract):
    def test_rules_round_trip_in_position_order(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food = self.category(t)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.categories.add(food))
        group = ConditionGroup(
            Match.ALL,
            (
                ConditionGroup(
                    Match.ANY,
                    (
                        Condition(Field.DESCRIPTION, Operator.CONTAINS, "uber"),
                        Condition(Field.PAYEE, Operator.REGEX, "^99", patterns=ports.patterns),
                    ),
                ),
                Condition(Field.AMOUNT, Operator.BETWEEN, (Money(-10000, "BRL"), Money(0, "BRL")), negate=True),
                Condition(Field.ACCOUNT, Operator.ONE_OF, (acc.id,)),
                Condition(Field.DATE, Operator.GREATER, date(2026, 1, 1)),
            ),
        )
        actions = (
            SetCategory(food.id),
            RenamePayee("Uber"),
            AddTag("rides"),
            SplitBy((SplitPart(food.id, percent=Decimal("12.5")), SplitPart(None, fixed=Money(100, "BRL"))), food.id),
        )
        late = Rule(self.new_id(), t, "late", 5, group, actions, NOW, stop_processing=True)
        early = Rule(self.new_id(), t, "early", 1, group, (AddTag("x"),), NOW, enabled=False)
        self.write(ports, t, lambda uow: uow.rules.add(late))
        self.write(ports, t, lambda uow: uow.rules.add(early))
        assert self.read(ports, t, lambda uow: uow.rules.list()) == [early, late]
        loaded = self.read(ports, t, lambda uow: uow.rules.get(late.id))
        assert loaded is not None
        assert loaded.runnable()  # the pattern is compiled again when read back
        moved = replace(early, position=9, enabled=True)
        self.write(ports, t, lambda uow: uow.rules.update(moved))
        assert self.read(ports, t, lambda uow: uow.rules.list()) == [late, moved]
        self.write(ports, t, lambda uow: uow.rules.remove(late.id))
        assert self.read(ports, t, lambda uow: uow.rules.get(late.id)) is None
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.rules.update(late))


class ImportRepositoryContract(PortsContract):
    def test_import_record_round_trip(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        record = StatementImport(self.new_id(), t, acc.id, "extrato.csv", ImportStatus.RUNNING, NOW, total_rows=3)
        self.write(ports, t, lambda uow: uow.imports.add(record))
        done = replace(
            record,
            status=ImportStatus.COMPLETED,
            imported=2,
            duplicates=1,
            errors=(RowError(4, "bad date"),),
            completed_at=NOW,
        )
        self.write(ports, t, lambda uow: uow.imports.update(done))
        assert self.read(ports, t, lambda uow: uow.imports.get(record.id)) == done
        with pytest.raises(NotFound):
            self.write(
                ports, t, lambda uow: uow.imports.add(replace(record, id=self.new_id(), account_id=self.new_id()))
            )

    def test_a_kept_file_is_taken_once_by_the_unit_that_commits(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        record = StatementImport(self.new_id(), t, acc.id, "extrato.ofx", ImportStatus.PENDING, NOW)
        kept = ("ofx", b"<OFX>\x00\xff", {"skip_invalid_rows": True})

        async def keep(uow: UnitOfWork) -> None:
            await uow.imports.add(record)
            await uow.imports.save_source(record.id, *kept)

        self.write(ports, t, keep)
        assert self.read(ports, t, lambda uow: uow.imports.source(record.id)) == kept

        async def take_twice(uow: UnitOfWork) -> list[object]:
            return [await uow.imports.take_source(record.id), await uow.imports.take_source(record.id)]

        assert self.read(ports, t, take_twice) == [kept, None]  # rolled back: still kept
        assert self.write(ports, t, take_twice) == [kept, None]
        assert self.read(ports, t, lambda uow: uow.imports.source(record.id)) is None
        assert self.read(ports, t, lambda uow: uow.imports.take_source(record.id)) is None

    def test_a_finished_import_keeps_no_file(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        record = StatementImport(self.new_id(), t, acc.id, "extrato.csv", ImportStatus.PENDING, NOW)

        async def keep(uow: UnitOfWork) -> None:
            await uow.imports.add(record)
            await uow.imports.save_source(record.id, "csv", b"a;b\n", {})

        self.write(ports, t, keep)
        for finished in (replace(record, status=ImportStatus.COMPLETED), replace(record, status=ImportStatus.FAILED)):

            async def store(uow: UnitOfWork, finished: StatementImport = finished) -> None:
                await uow.imports.update(finished)

            with pytest.raises(ValidationError):
                self.write(ports, t, store)
        assert self.read(ports, t, lambda uow: uow.imports.get(record.id)) == record

        async def finish(uow: UnitOfWork) -> None:
            await uow.imports.take_source(record.id)
            await uow.imports.update(replace(record, status=ImportStatus.COMPLETED, completed_at=NOW))

        self.write(ports, t, finish)
        assert self.read(ports, t, lambda uow: uow.imports.get(record.id)) == replace(
            record, status=ImportStatus.COMPLETED, completed_at=NOW
        )


class PayeeMemoryContract(PortsContract):
    def test_payee_memory_put_replaces(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food, home = self.category(t, "Food"), self.category(t, "Home")
        self.add_all(ports, t, food, home)
        entry = PayeeMemoryEntry("padaria real", (food.id,), NOW)
        self.write(ports, t, lambda uow: uow.payees.put(entry))
        later = entry.learn(home.id, NOW).learn(home.id, NOW)
        self.write(ports, t, lambda uow: uow.payees.put(later))
        assert self.read(ports, t, lambda uow: uow.payees.get("padaria real")) == later
        assert self.read(ports, t, lambda uow: uow.payees.get("nobody")) is None

    def test_word_counts_add_up_unlearn_and_stay_in_their_tenant(self, ports: Ports) -> None:
        t, other = self.new_tenant(ports), self.new_tenant(ports)
        food, home = self.category(t, "Food"), self.category(t, "Home")
        self.add_all(ports, t, food, home)
        self.write(ports, t, lambda uow: uow.payees.learn_words(["padaria", "real", "padaria"], food.id, 1.0))
        self.write(ports, t, lambda uow: uow.payees.learn_words(["padaria"], food.id, 0.5))
        self.write(ports, t, lambda uow: uow.payees.learn_words(["real"], home.id, 1.0))
        counts = self.read(ports, t, lambda uow: uow.payees.word_counts(["padaria", "real", "never"]))
        assert counts == {"padaria": {food.id: 1.5}, "real": {food.id: 1.0, home.id: 1.0}}
        self.write(ports, t, lambda uow: uow.payees.learn_words(["real", "padaria"], food.id, -1.0))
        counts = self.read(ports, t, lambda uow: uow.payees.word_counts(["padaria", "real"]))
        assert counts == {"padaria": {food.id: 0.5}, "real": {home.id: 1.0}}  # a count at zero is forgotten
        assert self.read(ports, other, lambda uow: uow.payees.word_counts(["padaria", "real"])) == {}
        assert self.read(ports, t, lambda uow: uow.payees.word_counts([])) == {}

    def test_payee_memory_read_in_one_batch_then_kept_until_written(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food, home = self.category(t, "Food"), self.category(t, "Home")
        self.add_all(ports, t, food, home)
        entry = PayeeMemoryEntry("padaria real", (food.id,), NOW)
        self.write(ports, t, lambda uow: uow.payees.put(entry))

        async def batch(uow: UnitOfWork) -> list[object]:
            found = await uow.payees.get_many(["padaria real", "nobody", "padaria real"])
            before = await uow.payees.get("padaria real"), await uow.payees.get("nobody")
            later = entry.learn(home.id, NOW)
            await uow.payees.put(later)  # a put within the unit is what a later get returns
            return [found, *before, await uow.payees.get("padaria real") == later]

        assert self.read(ports, t, batch) == [{"padaria real": entry}, entry, None, True]
        assert self.read(ports, t, lambda uow: uow.payees.get_many([])) == {}
        many = [entry.learn(home.id, NOW), PayeeMemoryEntry("uber trip", (home.id,), NOW)]
        self.write(ports, t, lambda uow: uow.payees.put_many(many))
        assert self.read(ports, t, lambda uow: uow.payees.get_many(["padaria real", "uber trip"])) == {
            e.payee_key: e for e in many
        }


class JobRepositoryContract(PortsContract):
    def test_a_job_is_stored_completed_and_failed(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        job = Job(self.new_id(), t, "generate_report", JobStatus.PENDING, NOW, {"kind": "cash_flow", "n": [1, 2]})
        self.write(ports, t, lambda uow: uow.jobs.add(job))
        assert self.read(ports, t, lambda uow: uow.jobs.get(job.id)) == job
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.jobs.add(job))
        done = job.completed({"rows": [{"amount": "1.00"}], "empty": None}, NOW + timedelta(seconds=3))
        self.write(ports, t, lambda uow: uow.jobs.update(done))
        assert self.read(ports, t, lambda uow: uow.jobs.get(job.id)) == done
        other = Job(self.new_id(), t, "apply_rules", JobStatus.PENDING, NOW)
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.jobs.update(other.failed("gone", NOW)))
        assert self.read(ports, self.new_tenant(ports), lambda uow: uow.jobs.get(job.id)) is None


class NotificationRepositoryContract(PortsContract):
    def test_notifications_newest_first_once_each_read_once(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        notes = [
            Notification(self.new_id(), t, "budget", f"n{i}", "body", NOW + timedelta(minutes=i), {"i": i})
            for i in range(4)
        ]
        for note in notes:

            async def add(uow: UnitOfWork, n: Notification = note) -> bool:
                return await uow.notifications.add(n)

            assert self.write(ports, t, add) is True
        assert self.write(ports, t, lambda uow: uow.notifications.add(replace(notes[0], title="again"))) is False
        newest = self.read(ports, t, lambda uow: uow.notifications.list(3))
        assert [n.title for n in newest] == ["n3", "n2", "n1"]
        first = self.write(ports, t, lambda uow: uow.notifications.mark_read(notes[2].id, NOW + timedelta(hours=1)))
        again = self.write(ports, t, lambda uow: uow.notifications.mark_read(notes[2].id, NOW + timedelta(hours=2)))
        assert first.read_at == again.read_at == NOW + timedelta(hours=1)
        unread = self.read(ports, t, lambda uow: uow.notifications.list(10, unread_only=True))
        assert [n.title for n in unread] == ["n3", "n1", "n0"]
        assert unread[-1] == notes[0]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.notifications.mark_read(self.new_id(), NOW))
        assert self.read(ports, self.new_tenant(ports), lambda uow: uow.notifications.list(10)) == []


class RuleSuggestionRepositoryContract(PortsContract):
    def test_one_suggestion_per_payee_and_category_and_decisions_stick(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food, home = self.category(t, "Food"), self.category(t, "Home")
        self.add_all(ports, t, food, home)
        first = RuleSuggestion(self.new_id(), t, "padaria real", food.id, 3, 5, SuggestionStatus.PENDING, NOW)
        later = RuleSuggestion(self.new_id(), t, "posto shell", home.id, 4, 5, SuggestionStatus.PENDING,
                               NOW + timedelta(minutes=1))  # fmt: skip
        self.write(ports, t, lambda uow: uow.rule_suggestions.add(first))
        self.write(ports, t, lambda uow: uow.rule_suggestions.add(later))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.rule_suggestions.add(replace(first, id=self.new_id())))
        assert self.read(ports, t, lambda uow: uow.rule_suggestions.find("padaria real", food.id)) == first
        assert self.read(ports, t, lambda uow: uow.rule_suggestions.find("padaria real", home.id)) is None
        dismissed = replace(first, status=SuggestionStatus.DISMISSED, decided_at=NOW + timedelta(hours=1))
        self.write(ports, t, lambda uow: uow.rule_suggestions.update(dismissed))
        assert self.read(ports, t, lambda uow: uow.rule_suggestions.get(first.id)) == dismissed
        assert [s.id for s in self.read(ports, t, lambda uow: uow.rule_suggestions.list())] == [later.id, first.id]
        pending = self.read(ports, t, lambda uow: uow.rule_suggestions.list(SuggestionStatus.PENDING))
        assert [s.id for s in pending] == [later.id]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.rule_suggestions.update(replace(first, id=self.new_id())))
        assert self.read(ports, self.new_tenant(ports), lambda uow: uow.rule_suggestions.list()) == []

    def test_find_many_reads_the_payees_suggestions_and_find_then_sees_the_units_writes(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        food, home = self.category(t, "Food"), self.category(t, "Home")
        self.add_all(ports, t, food, home)
        first = RuleSuggestion(self.new_id(), t, "padaria real", food.id, 3, 5, SuggestionStatus.PENDING, NOW)
        other = RuleSuggestion(self.new_id(), t, "padaria real", home.id, 3, 5, SuggestionStatus.DISMISSED, NOW, NOW)
        shell = RuleSuggestion(self.new_id(), t, "posto shell", home.id, 4, 5, SuggestionStatus.PENDING, NOW)
        self.write(ports, t, lambda uow: uow.rule_suggestions.add(first))
        self.write(ports, t, lambda uow: uow.rule_suggestions.add(other))
        self.write(ports, t, lambda uow: uow.rule_suggestions.add(shell))
        found = self.read(
            ports, t, lambda uow: uow.rule_suggestions.find_many(["padaria real", "uber", "padaria real"])
        )
        assert sorted(s.id for s in found) == sorted([first.id, other.id])
        assert (
            self.read(ports, self.new_tenant(ports), lambda uow: uow.rule_suggestions.find_many(["posto shell"])) == []
        )
        uber = RuleSuggestion(self.new_id(), t, "uber", food.id, 3, 3, SuggestionStatus.PENDING, NOW)
        dismissed = replace(first, status=SuggestionStatus.DISMISSED, decided_at=NOW)

        async def in_one_unit(uow: UnitOfWork) -> list[RuleSuggestion | None]:
            await uow.rule_suggestions.find_many(["padaria real", "uber"])
            await uow.rule_suggestions.add(uber)
            await uow.rule_suggestions.update(dismissed)
            asked = (("uber", food.id), ("padaria real", food.id), ("uber", home.id), ("posto shell", home.id))
            return [await uow.rule_suggestions.find(k, c) for k, c in asked]

        assert self.write(ports, t, in_one_unit) == [uber, dismissed, None, shell]
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.rule_suggestions.add(replace(uber, id=self.new_id())))
