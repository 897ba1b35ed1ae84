"""Every read the API serves is a query of ``Valorize`` (no controller opens a unit of work),
and each sees its own tenant's rows only."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from world import World, run

from valorize_core import BudgetInput, SignupRequest
from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.notifications import Notification
from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.use_cases.actions.mark_notification_read import NotificationRead
from valorize_core.use_cases.actions.request_job import JobRequest
from valorize_core.use_cases.queries.get_account import AccountLookup
from valorize_core.use_cases.queries.get_job import JobLookup
from valorize_core.use_cases.queries.get_user import UserLookup
from valorize_core.use_cases.queries.list_budgets import BudgetsQuery
from valorize_core.use_cases.queries.list_members import MembersQuery
from valorize_core.use_cases.queries.list_notifications import NotificationsQuery
from valorize_core.use_cases.queries.list_rule_suggestions import RuleSuggestionsQuery
from valorize_core.use_cases.queries.list_tokens import TokensQuery

API = Path(__file__).resolve().parents[2] / "src" / "valorize_entrypoints" / "api"


def test_no_api_module_opens_a_unit_of_work() -> None:
    """Controllers call ``Valorize``'s actions and queries; none reaches ``ports.uow`` itself."""
    found = [
        f"{path.relative_to(API)}:{node.lineno}"
        for path in sorted(API.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute) and node.attr == "uow"
    ]
    assert found == []


@pytest.fixture
def other(world: World) -> object:
    """A second tenant, with its own owner and first token."""
    return run(world.vz.signup(SignupRequest("Other", "bob@example.com", "Bob")))


def test_one_account_and_one_job(world: World, other: object) -> None:
    account = run(world.vz.get_account(AccountLookup(world.tenant, world.checking)))
    assert (account.id, account.name, account.balance.minor) == (world.checking, "Checking", 100_000)
    job = run(world.vz.request_job(JobRequest(world.tenant, "categorize", {"account_id": None})))
    assert run(world.vz.get_job(JobLookup(world.tenant, job.id))) == job
    for lookup in (
        world.vz.get_account(AccountLookup(other.tenant.id, world.checking)),  # type: ignore[attr-defined]
        world.vz.get_job(JobLookup(other.tenant.id, job.id)),  # type: ignore[attr-defined]
        world.vz.get_job(JobLookup(world.tenant, uuid4())),
    ):
        with pytest.raises(NotFound):
            run(lookup)


def test_members_their_users_and_tokens(world: World, other: object) -> None:
    bob = other.user.id  # type: ignore[attr-defined]
    members = run(world.vz.list_members(MembersQuery(world.tenant)))
    assert [(m.user.id, m.user.name, m.role.value) for m in members] == [(world.user, "Ana", "owner")]
    assert run(world.vz.get_user(UserLookup(world.tenant, world.user))).email == "ana@example.com"
    with pytest.raises(NotFound):  # Bob is no member of Ana's tenant
        run(world.vz.get_user(UserLookup(world.tenant, bob)))
    tokens = run(world.vz.list_tokens(TokensQuery(world.tenant)))
    assert [t.user_id for t in tokens] == [world.user]
    assert run(world.vz.list_tokens(TokensQuery(world.tenant, user_id=bob))) == []
    assert [t.user_id for t in run(world.vz.list_tokens(TokensQuery(other.tenant.id)))] == [bob]  # type: ignore[attr-defined]


def test_budgets_and_rule_suggestions(world: World, other: object) -> None:
    budget = run(world.vz.set_budget(BudgetInput(world.tenant, world.groceries, "300.00", "BRL")))
    assert run(world.vz.list_budgets(BudgetsQuery(world.tenant))) == [budget]
    assert run(world.vz.list_budgets(BudgetsQuery(other.tenant.id))) == []  # type: ignore[attr-defined]
    suggestion = RuleSuggestion(uuid4(), world.tenant, "padaria", world.groceries, 3, 3, "pending", world.clock.now())

    async def add() -> None:
        async with world.vz.ports.uow(world.tenant) as uow:
            await uow.rule_suggestions.add(suggestion)
            await uow.commit()

    run(add())
    assert run(world.vz.list_rule_suggestions(RuleSuggestionsQuery(world.tenant))) == [suggestion]
    pending = RuleSuggestionsQuery(world.tenant, SuggestionStatus.PENDING)
    assert run(world.vz.list_rule_suggestions(pending)) == [suggestion]
    dismissed = RuleSuggestionsQuery(world.tenant, SuggestionStatus.DISMISSED)
    assert run(world.vz.list_rule_suggestions(dismissed)) == []
    assert run(world.vz.list_rule_suggestions(RuleSuggestionsQuery(other.tenant.id))) == []  # type: ignore[attr-defined]


def _notify(world: World, title: str) -> Notification:
    note = Notification(uuid4(), world.tenant, "job", title, "", world.clock.now())

    async def add() -> None:
        async with world.vz.ports.uow(world.tenant) as uow:
            await uow.notifications.add(note)
            await uow.commit()

    run(add())
    world.clock.advance(timedelta(minutes=1))
    return note


def test_notifications_newest_first_and_read_once(world: World, other: object) -> None:
    first, second = _notify(world, "first"), _notify(world, "second")
    listed = run(world.vz.list_notifications(NotificationsQuery(world.tenant)))
    assert [n.title for n in listed] == ["second", "first"]
    assert [n.title for n in run(world.vz.list_notifications(NotificationsQuery(world.tenant, limit=1)))] == ["second"]
    for limit in (0, 201, True):
        with pytest.raises(ValidationError):
            run(world.vz.list_notifications(NotificationsQuery(world.tenant, limit=limit)))

    read = run(world.vz.mark_notification_read(NotificationRead(world.tenant, first.id)))
    assert read.read_at == world.clock.now()
    world.clock.advance(timedelta(hours=1))
    again = run(world.vz.mark_notification_read(NotificationRead(world.tenant, first.id)))
    assert again.read_at == read.read_at  # the first time stays
    unread = run(world.vz.list_notifications(NotificationsQuery(world.tenant, unread_only=True)))
    assert [n.id for n in unread] == [second.id]

    stranger = other.tenant.id  # type: ignore[attr-defined]
    assert run(world.vz.list_notifications(NotificationsQuery(stranger))) == []
    world.fails_cleanly(world.vz.mark_notification_read(NotificationRead(stranger, second.id)), NotFound)
    world.fails_cleanly(world.vz.mark_notification_read(NotificationRead(world.tenant, "x")), ValidationError)  # type: ignore[arg-type]
