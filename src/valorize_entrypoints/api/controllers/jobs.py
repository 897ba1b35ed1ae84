"""Jobs (background work a client asked for) and notifications."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter

from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.jobs import Job
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
        async with vz.ports.uow(actor.tenant_id) as uow:
            found = await uow.jobs.get(job_id)
        if found is None:
            raise NotFound("job", job_id)
        return s.job(found)


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ("notifications",)

    @get(responses=ERRORS, summary="Notifications, newest first")
    async def list_notifications(
        self,
        vz: VZ,
        actor: Reader,
        unread: FromQuery[bool] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[s.NotificationOut]:
        if not 1 <= limit <= 200:
            raise ValidationError.for_field("limit", "must be between 1 and 200")
        async with vz.ports.uow(actor.tenant_id) as uow:
            found = await uow.notifications.list(limit, unread_only=unread)
        return [s.notification(n) for n in found]

    @post("/{notification_id:uuid}/read", responses=ERRORS, status_code=200, summary="Mark a notification read")
    async def mark_read(self, notification_id: FromPath[UUID], vz: VZ, writer: Writer) -> s.NotificationOut:
        async with vz.ports.uow(writer.tenant_id) as uow:
            note = await uow.notifications.mark_read(notification_id, vz.ports.clock.now())
            await uow.commit()
        return s.notification(note)
