"""The ``TaskQueue`` port on Google Cloud Tasks (``google-cloud-tasks``).

* **Named tasks**: a task's Cloud Tasks name is its id (hex), so enqueuing the same task twice
  is refused by Cloud Tasks with ``ALREADY_EXISTS`` — which here means success. (The emulator
  does not deduplicate names; the worker's record of processed task ids is what guarantees one
  effect per task either way.)
* **HTTP push** to ``{worker_url}/tasks/{name}`` with a JSON body, authenticated by an OIDC
  token of a configured service account (production) or a shared secret header (emulator).
* **Bodies stay under 100 KB** (Cloud Tasks' limit is 1 MB, but large payloads belong in storage
  and travel by reference: a larger payload is refused here).
* **Retries** are the queue's (deploy/terraform sets them); they are safe because the worker
  answers a redelivered task as a duplicate.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2  # type: ignore[import-untyped]

from valorize_core.model.errors import ValidationError
from valorize_core.ports.task_queue import Task

__all__ = ["MAX_BODY", "CloudTasksQueue", "cloud_tasks_client", "task_body"]

MAX_BODY = 100_000


def task_body(task: Task) -> bytes:
    """The HTTP body a task is pushed to the worker with (at most :data:`MAX_BODY` bytes)."""
    return json.dumps({"tenant_id": str(task.tenant_id), "payload": task.payload}, separators=(",", ":")).encode()


def cloud_tasks_client(emulator_host: str | None = None) -> tasks_v2.CloudTasksAsyncClient:
    """A client for Cloud Tasks, or for an emulator at ``host:port`` (insecure gRPC)."""
    if not emulator_host:
        return tasks_v2.CloudTasksAsyncClient()
    import grpc  # type: ignore[import-untyped]
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

    channel = grpc.aio.insecure_channel(emulator_host)
    return tasks_v2.CloudTasksAsyncClient(transport=CloudTasksGrpcAsyncIOTransport(channel=channel))


class CloudTasksQueue:
    """Enqueues tasks on one Cloud Tasks queue, to be pushed to the worker."""

    def __init__(
        self,
        client: tasks_v2.CloudTasksAsyncClient,
        queue_path: str,
        worker_url: str,
        *,
        service_account: str | None = None,
        audience: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._client = client
        self._queue = queue_path
        self._worker = worker_url.rstrip("/")
        self._service_account = service_account
        self._audience = audience or self._worker
        self._headers = dict(headers or {})

    async def enqueue(self, task: Task) -> None:
        body = task_body(task)
        if len(body) > MAX_BODY:
            raise ValidationError.for_field("payload", f"task bodies are at most {MAX_BODY} bytes; pass a reference")
        http: dict[str, Any] = {
            "http_method": tasks_v2.HttpMethod.POST,
            "url": f"{self._worker}/tasks/{task.name}",
            "headers": {
                "Content-Type": "application/json",
                **self._headers,
                **({"X-Request-ID": task.correlation_id} if task.correlation_id else {}),
            },
            "body": body,
        }
        if self._service_account:
            http["oidc_token"] = {"service_account_email": self._service_account, "audience": self._audience}
        spec: dict[str, Any] = {"name": f"{self._queue}/tasks/{task.id.hex}", "http_request": http}
        if task.not_before is not None:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromDatetime(task.not_before)
            spec["schedule_time"] = stamp
        with contextlib.suppress(gexc.AlreadyExists):  # enqueued before: nothing to do
            await self._client.create_task(request={"parent": self._queue, "task": spec})
