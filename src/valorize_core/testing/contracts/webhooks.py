"""Contract of the webhook repository: endpoints, deliveries once per endpoint and event, the
log newest first, a deleted endpoint taking its deliveries along, and tenants kept apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from valorize_core.model.errors import NotFound
from valorize_core.model.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, delivery_id
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["WebhookRepositoryContract"]


class WebhookRepositoryContract(PortsContract):
    def test_endpoints_and_their_delivery_log(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        first = WebhookEndpoint(self.new_id(), t, "https://example.com/a", ("transaction.created",), "whsec_a", NOW)
        second = WebhookEndpoint(self.new_id(), t, "https://example.com/b", ("*",), "whsec_b", NOW + timedelta(1))
        self.write(ports, t, lambda uow: uow.webhooks.add_endpoint(second))
        self.write(ports, t, lambda uow: uow.webhooks.add_endpoint(first))
        assert self.read(ports, t, lambda uow: uow.webhooks.list_endpoints()) == [first, second]
        rotated = replace(first, secret="whsec_new", previous_secret="whsec_a", previous_valid_until=NOW,
                          enabled=False, disabled_reason="4 attempts failed")  # fmt: skip
        self.write(ports, t, lambda uow: uow.webhooks.update_endpoint(rotated))
        assert self.read(ports, t, lambda uow: uow.webhooks.get_endpoint(first.id)) == rotated
        events = [self.new_id() for _ in range(3)]
        deliveries = [
            WebhookDelivery(
                delivery_id(first.id, e), t, first.id, e, "transaction.created", '{"id":1}', NOW + timedelta(minutes=i)
            )
            for i, e in enumerate(events)
        ]
        for d in deliveries:

            async def add(uow: UnitOfWork, d: WebhookDelivery = d) -> bool:
                return await uow.webhooks.add_delivery(d)

            assert self.write(ports, t, add) is True
        assert self.write(ports, t, lambda uow: uow.webhooks.add_delivery(replace(deliveries[0], body="{}"))) is False
        done = replace(deliveries[1], status=DeliveryStatus.SUCCEEDED, attempts=2, last_attempt_at=NOW,
                       response_status=200, response_body="ok", redeliveries=1)  # fmt: skip
        self.write(ports, t, lambda uow: uow.webhooks.update_delivery(done))
        log = self.read(ports, t, lambda uow: uow.webhooks.list_deliveries(first.id, 2))
        assert log == [deliveries[2], done]
        assert self.read(ports, t, lambda uow: uow.webhooks.get_delivery(deliveries[0].id)) == deliveries[0]
        other = self.new_tenant(ports)
        assert self.read(ports, other, lambda uow: uow.webhooks.list_endpoints()) == []
        assert self.read(ports, other, lambda uow: uow.webhooks.get_delivery(done.id)) is None
        self.write(ports, t, lambda uow: uow.webhooks.delete_endpoint(first.id))
        assert self.read(ports, t, lambda uow: uow.webhooks.get_delivery(done.id)) is None
        assert self.read(ports, t, lambda uow: uow.webhooks.list_endpoints()) == [second]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.webhooks.delete_endpoint(first.id))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.webhooks.update_delivery(done))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.webhooks.update_endpoint(first))
