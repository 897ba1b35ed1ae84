"""Jobs (background work a client asked for) and notifications."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from valorize_core.model.jobs import Job
from valorize_core.use_cases.actions.mark_notification_read import NotificationRead
from valorize_core.use_cases.queries.get_job import JobLookup
from valorize_core.use_cases.queries.list_notifications import MAX_NOTIFICATIONS, NotificationsQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS, accepted

__all__ = ["JobController", "NotificationController", "job_accepted"]


def job_accepted(job: Job) -> Response[s.JobOut]:
    """202 with the pending job and where to follow it."""
    return accepted(s.job(job), f"/api/jobs/{job.id}")


class JobController(Controller):
    path = "/api/jobs"
    tags = ("jobs",)

    @get("/{job_id:uuid}", responses=ERRORS, summary="A job: pending, completed with its result, or failed")
    async def get_job(self, job_id: FromPath[UUID], vz: VZ, actor: Reader) -> s.JobOut:
        return s.job(await vz.get_job(JobLookup(actor.tenant_id, job_id)))


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ("notifications",)

    @get(responses=ERRORS, summary="Notifications, newest first")
    async def list_notifications(
        self,
        vz: VZ,
        actor: Reader,
        unread: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_NOTIFICATIONS)] = 50,
    ) -> list[s.NotificationOut]:
        found = await vz.list_notifications(NotificationsQuery(actor.tenant_id, limit, unread_only=unread))
        return [s.notification(n) for n in found]

    @post("/{notification_id:uuid}/read", responses=ERRORS, status_code=200, summary="Mark a notification read")
    async def mark_read(self, notification_id: FromPath[UUID], vz: VZ, writer: Writer) -> s.NotificationOut:
        return s.notification(await vz.mark_notification_read(NotificationRead(writer.tenant_id, notification_id)))
