"""Action: accept a job (background work a client asked for); its task runs it later.

Everything that can be checked now is checked now — unknown rules, a bad report range — so a
bad request gets its error at once and stores nothing. The job and its ``JobRequested`` event
commit together; the outbox relay turns the event into the job's task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.events import JobRequested
from valorize_core.model.ids import parse_id
from valorize_core.model.jobs import JOB_KINDS, Job, JobStatus
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require
from valorize_core.use_cases.queries.reports import ReportQuery, check_report_query

__all__ = ["JobRequest", "RequestJob", "categorize_params", "param_date", "report_params", "rule_apply_params"]


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A job of ``kind`` (``apply_rules`` or ``generate_report``) with JSON-safe parameters."""

    tenant_id: UUID
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


def rule_apply_params(params: dict[str, Any]) -> tuple[tuple[UUID, ...] | None, bool]:
    """``rule_ids`` (``None``: every enabled rule) and ``include_manual`` of an ``apply_rules`` job."""
    raw = params.get("rule_ids")
    if raw is not None and not isinstance(raw, list):
        raise ValidationError.for_field("rule_ids", "must be a list of rule ids")
    ids = None if raw is None else tuple(parse_id(i, "rule_ids") for i in raw)
    include = params.get("include_manual", False)
    if not isinstance(include, bool):
        raise ValidationError.for_field("include_manual", "must be true or false")
    return ids, include


def categorize_params(params: dict[str, Any]) -> UUID | None:
    """The account a ``categorize`` job is limited to, if any."""
    raw = params.get("account_id")
    return None if raw is None else parse_id(raw, "account_id")


def param_date(params: Mapping[str, Any], name: str) -> date:
    """A required ``YYYY-MM-DD`` parameter of a job or task."""
    try:
        return date.fromisoformat(str(params[name]))
    except (KeyError, ValueError):
        raise ValidationError.for_field(name, "a date (YYYY-MM-DD) is required") from None


def report_params(tenant_id: UUID, params: dict[str, Any]) -> ReportQuery:
    """The report a ``generate_report`` job asks for."""
    start, end = param_date(params, "start"), param_date(params, "end")
    query = ReportQuery(tenant_id, str(params.get("kind", "")), start, end)
    check_report_query(query)
    return query


class RequestJob:
    """Validates a job request, stores the pending job and records ``JobRequested``."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, request: JobRequest) -> Job:
        """The pending job."""
        if request.kind not in JOB_KINDS:
            raise ValidationError.for_field("kind", f"must be one of {', '.join(sorted(JOB_KINDS))}")
        async with self._ports.uow(request.tenant_id) as uow:
            params = await self._checked(uow, request)
            job = Job(self._ports.ids.new_id(), request.tenant_id, request.kind, JobStatus.PENDING,
                      self._ports.clock.now(), params)  # fmt: skip
            await uow.jobs.add(job)
            uow.record(self._ports.event(JobRequested, request.tenant_id, job_id=str(job.id), kind=job.kind))
            uow.retires()  # the job record only: what the job changes, its own unit declares
            await uow.commit()
        return job

    async def _checked(self, uow: UnitOfWork, request: JobRequest) -> dict[str, Any]:
        """The parameters, normalized, once they are known to be valid."""
        if request.kind == "apply_rules":
            ids, include = rule_apply_params(request.params)
            for rule_id in ids or ():
                await require(uow.rules.get, rule_id, "rule")
            return {"rule_ids": None if ids is None else [str(i) for i in ids], "include_manual": include}
        if request.kind == "categorize":
            account_id = categorize_params(request.params)
            if account_id is not None:
                await require(uow.accounts.get, account_id, "account")
            return {"account_id": None if account_id is None else str(account_id)}
        query = report_params(request.tenant_id, request.params)
        return {"kind": query.kind, "start": query.start.isoformat(), "end": query.end.isoformat()}
