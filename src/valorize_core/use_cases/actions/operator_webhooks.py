"""Webhooks the operator configured (not a tenant's): a ready, signed call, sent by the worker.

The realtime server's Pusher webhooks (docs/realtime.md, "Webhooks") are such calls: an instance
batches what happened on its channels, signs the body with the app secret and enqueues one
``deliver_operator_webhook`` task per URL. The worker sends it through the same sender (and
destination guard, and time limit) as the tenants' webhooks; a failed call raises
:class:`WebhookCallFailed`, which is no domain error, so the task queue retries it with its
backoff and dead-letters it after its last attempt. Nothing is stored: there is no tenant to
show a delivery log to, and the queue's dead letters keep what failed for good.

These tasks belong to no tenant: they carry :data:`OPERATOR_TENANT` (the nil UUID), under which
their processed-task ids are recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from valorize_core.model.errors import Transient, ValidationError
from valorize_core.model.webhooks import check_url
from valorize_core.ports.webhooks import SendResult
from valorize_core.use_cases.context import Ports

__all__ = [
    "OPERATOR_HEADERS",
    "OPERATOR_TENANT",
    "OperatorWebhookCall",
    "SendOperatorWebhook",
    "WebhookCallFailed",
]

#: The tenant id of tasks that belong to the installation, not to a tenant.
OPERATOR_TENANT = UUID(int=0)

#: The headers a call may set besides the content type (anything else is refused: a task's
#: payload never chooses ``Host`` or ``Authorization``).
OPERATOR_HEADERS = frozenset({"x-pusher-key", "x-pusher-signature"})

MAX_BODY_BYTES = 1_000_000


class WebhookCallFailed(Transient):
    """The receiver did not answer 2xx (or could not be reached): the task queue tries again."""


@dataclass(frozen=True, slots=True)
class OperatorWebhookCall:
    """One POST: where, the signed headers, and the JSON body as signed."""

    url: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", check_url(self.url))
        if not isinstance(self.body, str) or len(self.body.encode()) > MAX_BODY_BYTES:
            raise ValidationError.for_field("body", f"must be text of at most {MAX_BODY_BYTES} bytes")
        if not isinstance(self.headers, Mapping):
            raise ValidationError.for_field("headers", "must be an object")
        for name, value in self.headers.items():
            if not isinstance(name, str) or name.lower() not in OPERATOR_HEADERS:
                raise ValidationError.for_field("headers", f"{str(name)[:50]!r} may not be set")
            if not isinstance(value, str) or any(c in value for c in "\r\n") or len(value) > 200:
                raise ValidationError.for_field("headers", f"{name}: must be one line of at most 200 characters")


class SendOperatorWebhook:
    """Sends one call; raises :class:`WebhookCallFailed` unless the receiver answered 2xx."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, call: OperatorWebhookCall) -> SendResult:
        """POST it. A refused destination fails the attempt too (a name may resolve elsewhere
        later, as the tenants' deliveries treat it)."""
        sender = self._ports.webhook_sender
        if sender is None:
            raise ValidationError.for_field("url", "outbound webhooks are not configured on this installation")
        try:
            await sender.check_destination(call.url)
        except ValidationError as exc:
            raise WebhookCallFailed(exc.message) from None
        headers = {"Content-Type": "application/json", "User-Agent": "Valorize-Webhooks/1", **call.headers}
        result = await sender.send(call.url, headers, call.body.encode(), self._ports.webhook_policy.timeout)
        if not result.ok:
            raise WebhookCallFailed(result.error or f"HTTP {result.status}: {result.body[:200]}")
        return result
