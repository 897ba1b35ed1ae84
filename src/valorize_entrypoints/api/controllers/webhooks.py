"""Outbound webhooks: the tenant's endpoints, their delivery log and manual redelivery (owners)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, QueryParameter
from litestar.params import JSONBody as Body

from valorize_core.use_cases.actions.webhooks import NewWebhook, RedeliveryRequest, WebhookChange, WebhookRef
from valorize_core.use_cases.queries.webhooks import DeliveryLog, WebhooksQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS, accepted


class WebhookController(Controller):
    path = "/api/webhooks"
    tags = ("webhooks",)

    @get(responses=ERRORS, summary="The tenant's webhook endpoints")
    async def list_webhooks(self, vz: VZ, actor: Reader) -> list[s.WebhookOut]:
        return [s.webhook(e) for e in await vz.list_webhooks(WebhooksQuery(actor.tenant_id))]

    @post(responses=ERRORS, status_code=201, summary="Add an endpoint subscribed to event types (its secret returned)")
    async def create_webhook(self, data: Body[s.WebhookIn], vz: VZ, writer: Writer) -> s.WebhookOut:
        command = NewWebhook(writer.tenant_id, data.url, tuple(data.event_types))
        return s.webhook(await vz.create_webhook(command))

    @patch("/{webhook_id:uuid}", responses=ERRORS, summary="Change an endpoint's URL, event types or enabled")
    async def update_webhook(
        self, webhook_id: FromPath[UUID], data: Body[s.WebhookPatch], vz: VZ, writer: Writer
    ) -> s.WebhookOut:
        events = None if data.event_types is None else tuple(data.event_types)
        command = WebhookChange(writer.tenant_id, webhook_id, data.url, events, data.enabled)
        return s.webhook(await vz.update_webhook(command))

    @delete("/{webhook_id:uuid}", responses=ERRORS, summary="Remove an endpoint and its delivery log")
    async def delete_webhook(self, webhook_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_webhook(WebhookRef(writer.tenant_id, webhook_id))

    @post("/{webhook_id:uuid}/rotate-secret", responses=ERRORS, status_code=200,
          summary="A new signing secret; the old one keeps signing too for a while")  # fmt: skip
    async def rotate_secret(self, webhook_id: FromPath[UUID], vz: VZ, writer: Writer) -> s.WebhookOut:
        return s.webhook(await vz.rotate_webhook_secret(WebhookRef(writer.tenant_id, webhook_id)))

    @get("/{webhook_id:uuid}/deliveries", responses=ERRORS, summary="An endpoint's deliveries, newest first")
    async def deliveries(
        self,
        webhook_id: FromPath[UUID],
        vz: VZ,
        actor: Reader,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[s.DeliveryOut]:
        found = await vz.list_webhook_deliveries(DeliveryLog(actor.tenant_id, webhook_id, limit))
        return [s.delivery(d) for d in found]

    @post("/deliveries/{delivery_id:uuid}/redeliver", responses=ERRORS, status_code=202,
          summary="Send a finished delivery again")  # fmt: skip
    async def redeliver(self, delivery_id: FromPath[UUID], vz: VZ, writer: Writer) -> Response[s.DeliveryOut]:
        again = await vz.redeliver_webhook(RedeliveryRequest(writer.tenant_id, delivery_id))
        return accepted(s.delivery(again), f"/api/webhooks/{again.endpoint_id}/deliveries")
