"""The worker role's scheduler job asks for the posting of due occurrences, and the role's
dispatcher delivers it: a schedule due yesterday is posted without anyone calling anything."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from valorize_core import NewAccount, NewSchedule, SignupRequest
from valorize_core.model.listing import TransactionFilter
from valorize_entrypoints.container import Container, serving
from valorize_entrypoints.roles import ROLE_JOBS, JobKind, Role
from valorize_entrypoints.settings import Settings


@pytest.mark.parametrize("role", [Role.DEV, Role.WORKER])
def test_the_scheduler_job_posts_due_occurrences(role: Role) -> None:
    assert JobKind.SCHEDULER in ROLE_JOBS[role]
    container = Container()
    container.settings.override(replace(Settings(), backend="memory", log_json=False, schedule_tick=1))
    container.role.override(role)
    app = SimpleNamespace(state=SimpleNamespace())

    async def go() -> list[str]:
        async with serving(container)(app):
            vz = app.state.runtime.app
            tenant = (await vz.signup(SignupRequest("Job", f"{uuid.uuid4().hex}@example.com", "J"))).tenant.id
            account = (await vz.create_account(NewAccount(tenant, "Main", "checking", "BRL", "100.00"))).id
            yesterday = vz.ports.clock.now().date() - timedelta(days=1)
            await vz.create_schedule(NewSchedule(tenant, account, "Coffee", "-5.00", "FREQ=DAILY", yesterday))
            for _ in range(100):
                async with vz.ports.uow(tenant) as uow:
                    posted = await uow.transactions.all(TransactionFilter(account_ids=(account,)))
                if len(posted) == 2:
                    break
                await asyncio.sleep(0.1)
            return sorted(t.booked_on.isoformat() for t in posted)

    found = asyncio.run(go())
    assert len(found) == 2  # yesterday and today, once each
    assert [JobKind.SCHEDULER in ROLE_JOBS[r] for r in (Role.API, Role.REALTIME, Role.DISPATCH)] == [False] * 3
