"""The worker's ``deliver_operator_webhook`` task: what its payload may say, and to whom."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.webhooks import DestinationGuard, HttpWebhookSender
from valorize_core.app import Valorize
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.operator_webhooks import OPERATOR_TENANT

GOOD = {"url": "http://127.0.0.1:9/hooks", "body": "{}", "headers": {"X-Pusher-Key": "k"}}


def _run(payload: dict[str, Any], tenant: uuid.UUID = OPERATOR_TENANT, *, sender: bool = True) -> tuple[str, str]:
    ports = InMemoryBackend().ports
    if sender:
        ports = replace(ports, webhook_sender=HttpWebhookSender(DestinationGuard()))
    result = run(TaskRunner(Valorize(ports)).run(Task(uuid.uuid4(), "deliver_operator_webhook", tenant, payload)))
    return result.outcome.value, result.detail


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({**GOOD, "headers": {"Authorization": "Bearer x"}}, "may not be set"),
        ({**GOOD, "headers": {"X-Pusher-Signature": "a\r\nHost: evil"}}, "one line"),
        ({**GOOD, "url": "file:///etc/passwd"}, "absolute https"),
        ({"body": "{}"}, "needs a url and a body"),
        ({**GOOD, "body": 5}, "needs a url and a body"),
    ],
)
def test_a_payload_that_could_do_more_than_post_a_body_is_rejected(payload: dict[str, Any], why: str) -> None:
    outcome, detail = _run(payload)
    assert outcome == TaskOutcome.REJECTED
    assert why in detail


def test_a_tenants_task_cannot_call_an_operators_url() -> None:
    assert _run(GOOD, uuid.uuid4()) == (TaskOutcome.REJECTED, "tenant_id: an operator's webhook belongs to no tenant")


def test_without_a_sender_the_task_is_rejected() -> None:
    outcome, detail = _run(GOOD, sender=False)
    assert outcome == TaskOutcome.REJECTED
    assert "not configured" in detail


def test_a_refused_destination_fails_the_attempt_for_the_queue_to_retry() -> None:
    from valorize_core.use_cases.actions.operator_webhooks import WebhookCallFailed

    with pytest.raises(WebhookCallFailed, match="loopback"):
        _run(GOOD)  # 127.0.0.1 is not allowed by the default guard
