"""Background tasks: named handlers over the use cases, each with exactly one effect.

A task's id is recorded (``uow.processed``) in the same database transaction as its effects,
just before commit. A redelivered task finds its id already there, the commit is abandoned,
and the outcome is ``duplicate``: at-least-once delivery, exactly-once effects. Domain errors
(bad payload, a deleted account) are ``rejected``: retrying cannot help, so the queue
dead-letters them with the reason. Anything else propagates, and the queue retries.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from valorize_core.app import Valorize
from valorize_core.model.errors import DomainError, Unavailable, ValidationError
from valorize_core.model.events import NotificationCreated, ReportReady, event_from_record
from valorize_core.model.ids import parse_id
from valorize_core.model.jobs import Job
from valorize_core.model.notifications import Notification, notification_for, notification_id
from valorize_core.ports.task_queue import Task
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.runtime.pipeline import before_every_commit
from valorize_core.use_cases.actions._shared import finish_job, index_example
from valorize_core.use_cases.actions.apply_rules import RetroactiveApply
from valorize_core.use_cases.actions.categorize_batch import BatchCategorization
from valorize_core.use_cases.actions.check_balances import BalanceCheck
from valorize_core.use_cases.actions.evaluate_budgets import BudgetEvaluation
from valorize_core.use_cases.actions.import_statement import ImportRun
from valorize_core.use_cases.actions.operator_webhooks import OPERATOR_TENANT, OperatorWebhookCall
from valorize_core.use_cases.actions.post_schedules import SchedulePosting
from valorize_core.use_cases.actions.request_job import categorize_params, param_date, report_params, rule_apply_params
from valorize_core.use_cases.actions.watch_subscriptions import SubscriptionWatch
from valorize_core.use_cases.actions.webhooks import DeliveryAttempt
from valorize_core.use_cases.lookups import require

__all__ = ["TASK_NAMES", "TaskOutcome", "TaskResult", "TaskRunner"]


class TaskOutcome(enum.StrEnum):
    """What running a task came to."""

    DONE = "done"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The outcome and, for a rejection, why."""

    outcome: TaskOutcome
    detail: str = ""


class _AlreadyProcessed(Exception):
    """Raised inside the commit of a redelivered task, which abandons it."""


Handler = Callable[[Valorize, Task], Awaitable[None]]


async def _job(vz: Valorize, task: Task) -> Job:
    job_id = parse_id(task.payload.get("job_id"), "job_id")
    async with vz.ports.uow(task.tenant_id) as uow:
        return await require(uow.jobs.get, job_id, "job")


async def _apply_rules(vz: Valorize, task: Task) -> None:
    """Rules over existing transactions: for a job (``job_id``) or as the payload says."""
    job = await _job(vz, task) if "job_id" in task.payload else None
    ids, include = rule_apply_params(task.payload if job is None else job.params)
    await vz.apply_rules(
        RetroactiveApply(task.tenant_id, ids, include_manual=include, job_id=None if job is None else job.id)
    )


async def _evaluate_budgets(vz: Valorize, task: Task) -> None:
    await vz.evaluate_budgets(BudgetEvaluation(task.tenant_id, param_date(task.payload, "day")))


async def _post_schedules(vz: Valorize, task: Task) -> None:
    """Post the tenant's occurrences due on ``day`` (each schedule and date once, whatever the
    task id: ticks of one day are separate tasks, and find posted dates taken), then watch its
    confirmed subscriptions for price rises and stops, and its projected balances against the
    low-balance alerts (each announced once)."""
    day = param_date(task.payload, "day")
    await vz.post_schedules(SchedulePosting(task.tenant_id, day))
    await vz.watch_subscriptions(SubscriptionWatch(task.tenant_id, day))
    await vz.check_balances(BalanceCheck(task.tenant_id, day))


async def _index_example(vz: Valorize, task: Task) -> None:
    tx_id = parse_id(task.payload.get("transaction_id"), "transaction_id")
    async with vz.ports.uow(task.tenant_id) as uow:
        tx = await require(uow.transactions.get, tx_id, "transaction")
        if tx.categorization.source == "manual":
            await index_example(uow, vz.ports, tx)
        uow.retires()  # the categorizer's examples: no cached read shows them
        await uow.commit()


async def _categorize(vz: Valorize, task: Task) -> None:
    """A batch categorization job over uncategorized transactions."""
    job = await _job(vz, task)
    await vz.categorize_batch(BatchCategorization(task.tenant_id, categorize_params(job.params), job_id=job.id))


async def _generate_report(vz: Valorize, task: Task) -> None:
    """A report job: the rows are stored as the job's result, then ``report.ready`` announced."""
    job = await _job(vz, task)
    report = await vz.report(report_params(task.tenant_id, job.params))
    async with vz.ports.uow(task.tenant_id) as uow:
        rows = report.rows()
        result = {"kind": report.kind, "start": report.start.isoformat(), "end": report.end.isoformat(), "rows": rows}
        await finish_job(uow, vz.ports, job.id, f"{len(rows)} rows.", result)
        uow.record(vz.ports.event(ReportReady, task.tenant_id, report_id=str(job.id), kind=report.kind))
        uow.retires()  # the job's result: no cached read shows jobs
        await uow.commit()


async def _notify(vz: Valorize, task: Task) -> None:
    """Store the notification an event deserves (at most one per event) and announce it."""
    event = event_from_record(task.payload.get("event") or {})
    if event.tenant_id != task.tenant_id:
        raise ValidationError.for_field("event", "belongs to another tenant")
    spec = notification_for(event)
    if spec is None:
        return
    kind, title, body, data = spec
    note = Notification(notification_id(event), task.tenant_id, kind, title, body, vz.ports.clock.now(), data)
    async with vz.ports.uow(task.tenant_id) as uow:
        if await uow.notifications.add(note):
            uow.retires()  # no cached read shows notifications
            uow.record(vz.ports.event(NotificationCreated, task.tenant_id, notification_id=str(note.id),
                                      kind=kind, title=title, body=body))  # fmt: skip
            await uow.commit()


async def _import_statement(vz: Valorize, task: Task) -> None:
    """Run a requested import: parse, import and release its file in one unit of work."""
    await vz.run_import(ImportRun(task.tenant_id, parse_id(task.payload.get("import_id"), "import_id")))


async def _fan_out_webhooks(vz: Valorize, task: Task) -> None:
    """Store one delivery of each event per endpoint subscribed to it (none: nothing to do).

    The payload carries a commit's webhook events (``events``, in order); a task queued before
    they were shared carries one (``event``), and still runs."""
    records = task.payload.get("events")
    if records is None:
        records = [task.payload.get("event") or {}]
    if not isinstance(records, list) or not records:
        raise ValidationError.for_field("events", "must be a non-empty list of event records")
    events = [event_from_record(r if isinstance(r, dict) else {}) for r in records]
    if any(event.tenant_id != task.tenant_id for event in events):
        raise ValidationError.for_field("event", "belongs to another tenant")
    await vz.fan_out_webhooks(events)


async def _deliver_webhook(vz: Valorize, task: Task) -> None:
    """One attempt of a webhook delivery (the next, if it fails, is a task of its own)."""
    attempt, round_ = task.payload.get("attempt"), task.payload.get("round", 0)
    if not isinstance(attempt, int) or not isinstance(round_, int) or attempt < 1 or round_ < 0:
        raise ValidationError.for_field("attempt", "must be a positive attempt number and round")
    delivery = parse_id(task.payload.get("delivery_id"), "delivery_id")
    await vz.deliver_webhook(DeliveryAttempt(task.tenant_id, delivery, attempt, round_))


async def _deliver_operator_webhook(vz: Valorize, task: Task) -> None:
    """One attempt of an operator's webhook call (the realtime server's Pusher webhooks); a
    failed call raises, and the queue retries it."""
    if task.tenant_id != OPERATOR_TENANT:
        raise ValidationError.for_field("tenant_id", "an operator's webhook belongs to no tenant")
    url, body = task.payload.get("url"), task.payload.get("body")
    if not isinstance(url, str) or not isinstance(body, str):
        raise ValidationError.for_field("url", "an operator's webhook needs a url and a body")
    await vz.send_operator_webhook(OperatorWebhookCall(url, body, task.payload.get("headers") or {}))


HANDLERS: dict[str, Handler] = {
    "import_statement": _import_statement,
    "apply_rules": _apply_rules,
    "evaluate_budgets": _evaluate_budgets,
    "post_schedules": _post_schedules,
    "index_example": _index_example,
    "generate_report": _generate_report,
    "notify": _notify,
    "categorize": _categorize,
    "fan_out_webhooks": _fan_out_webhooks,
    "deliver_webhook": _deliver_webhook,
    "deliver_operator_webhook": _deliver_operator_webhook,
}
TASK_NAMES = frozenset(HANDLERS)


class TaskRunner:
    """Runs tasks by name against the ports, once per task id."""

    def __init__(self, app: Valorize, handlers: Mapping[str, Handler] | None = None) -> None:
        # The composition root's one application for every task: each run marks its task
        # through the commit pipeline's context hooks (tasks run concurrently, each in its own
        # context).
        self._app = app
        self._ports = app.ports
        self._handlers = dict(HANDLERS if handlers is None else handlers)

    @property
    def names(self) -> frozenset[str]:
        """The task names this runner knows."""
        return frozenset(self._handlers)

    async def run(self, task: Task) -> TaskResult:
        """Run ``task``; raises only for failures worth retrying."""
        handler = self._handlers.get(task.name)
        if handler is None:
            return TaskResult(TaskOutcome.REJECTED, f"unknown task {task.name!r}")

        marked = finished = False

        async def mark(uow: UnitOfWork) -> None:
            nonlocal marked
            # A handler may commit more than one unit: the first one records the task. An
            # asyncio task it started inherits this context; what it commits after the run
            # is over is not the task's effect.
            if marked or finished:
                return
            if not await uow.processed.mark(task.id, task.name):
                raise _AlreadyProcessed(str(task.id))
            marked = True

        # Every unit the handler commits runs ``mark`` first, in its own transaction.
        with before_every_commit(mark):
            try:
                await handler(self._app, task)
            except _AlreadyProcessed:
                return TaskResult(TaskOutcome.DUPLICATE)
            except Unavailable:  # the store is down, not the task wrong: ask for a retry
                raise
            except DomainError as exc:
                if await self._fail_job(self._app, task, exc.message):
                    return TaskResult(TaskOutcome.DUPLICATE)
                return TaskResult(TaskOutcome.REJECTED, exc.message)
            finally:
                finished = True
        if not marked:  # the handler had nothing to commit: record the task on its own
            async with self._ports.uow(task.tenant_id) as uow:
                if not await uow.processed.mark(task.id, task.name):
                    return TaskResult(TaskOutcome.DUPLICATE)
                uow.retires()  # the mark only: no cached read changes
                await uow.commit()
        return TaskResult(TaskOutcome.DONE)

    @staticmethod
    async def _fail_job(vz: Valorize, task: Task, reason: str) -> bool:
        """A rejected task of a job fails the job, with the reason (when the job exists).

        Returns ``True`` when the task turns out to be a redelivery (the job failed before)."""
        if "job_id" not in task.payload:
            return False
        try:
            job_id = parse_id(task.payload["job_id"], "job_id")
            async with vz.ports.uow(task.tenant_id) as uow:
                await finish_job(uow, vz.ports, job_id, reason, error=reason)
                uow.retires()  # the job's failure: no cached read shows jobs
                await uow.commit()
        except Unavailable:
            raise
        except DomainError:
            return False
        except _AlreadyProcessed:
            return True
        return False


def task_id_for(name: str, tenant_id: UUID, key: str) -> UUID:
    """A deterministic task id: the same work asked twice is one task (queue deduplication)."""
    return uuid5(NAMESPACE_URL, f"valorize:{tenant_id}:{name}:{key}")
