"""Jobs: work a client asked for that runs in the background, and what came of it.

``POST /api/rules/apply``, ``POST /api/reports`` and ``POST /api/transactions/categorize``
answer 202 with a job; the job's task does
the work and, in the same database transaction as its effects, stores the job's result — so a
job reads ``completed`` exactly when its effects are committed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from valorize_core.model.text import parse_choice

__all__ = ["JOB_KINDS", "Job", "JobStatus"]

JOB_KINDS = frozenset({"apply_rules", "generate_report", "categorize"})


class JobStatus(enum.StrEnum):
    """Where a job is."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    """A requested piece of background work: its parameters, status, and result or error.

    ``params`` and ``result`` hold JSON-safe values only.
    """

    id: UUID
    tenant_id: UUID
    kind: str
    status: JobStatus
    created_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str = ""
    completed_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_choice(JobStatus, self.status, "status"))

    def completed(self, result: dict[str, Any], at: datetime) -> Job:
        """This job, done, with its result."""
        return Job(self.id, self.tenant_id, self.kind, JobStatus.COMPLETED, self.created_at, self.params,
                   result, "", at)  # fmt: skip

    def failed(self, error: str, at: datetime) -> Job:
        """This job, given up, with the reason."""
        return Job(self.id, self.tenant_id, self.kind, JobStatus.FAILED, self.created_at, self.params,
                   None, error, at)  # fmt: skip
