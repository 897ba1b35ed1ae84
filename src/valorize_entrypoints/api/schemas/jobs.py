"""Jobs (background work a client asked for) and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import Struct

from valorize_core.model.jobs import Job
from valorize_core.model.notifications import Notification

__all__ = ["JobOut", "NotificationOut", "job", "notification"]


class JobOut(Struct):
    """Background work: ``result`` once ``completed`` (rule apply: ``examined``/``changed``;
    report: ``kind``/``start``/``end``/``rows``), ``error`` once ``failed``."""

    id: UUID
    kind: str
    status: str
    params: dict[str, Any]
    created_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    completed_at: datetime | None = None


def job(j: Job) -> JobOut:
    return JobOut(j.id, j.kind, j.status.value, j.params, j.created_at, j.result, j.error or None, j.completed_at)


class NotificationOut(Struct):
    id: UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None = None


def notification(n: Notification) -> NotificationOut:
    return NotificationOut(n.id, n.kind, n.title, n.body, n.data, n.created_at, n.read_at)
