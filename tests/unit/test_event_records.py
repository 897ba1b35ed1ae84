"""An event's record is made once and handed out as a copy: every caller (the outbox, the
publishers, the follow-up tasks' bodies) sees the same record, and none can change another's."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime

from valorize_core.model.events import TransactionUpdated, event_from_record


def _event() -> TransactionUpdated:
    return TransactionUpdated(
        event_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        occurred_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        correlation_id="req-1",
        transaction_id="t-1",
        account_id="a-1",
        changes=("amount",),
    )


def test_a_record_changed_by_its_caller_leaves_the_next_callers_record_alone() -> None:
    event = _event()
    first = event.to_record()
    first["name"] = "changed"
    first["payload"]["account_id"] = "changed"
    assert event.to_record() == {
        "id": str(event.event_id),
        "name": "transaction.updated",
        "tenant_id": str(event.tenant_id),
        "occurred_at": "2026-03-01T12:00:00+00:00",
        "payload": {"transaction_id": "t-1", "account_id": "a-1", "changes": ("amount",)},
        "correlation_id": "req-1",
    }


def test_the_kept_record_is_no_field_of_the_event() -> None:
    event = _event()
    record = json.loads(event.to_json())
    assert "_record" not in record["payload"]
    assert event_from_record(record) == event
    assert event == dataclasses.replace(event)  # a record made or not, the same event
    assert hash(event) == hash(dataclasses.replace(event))
    replaced = dataclasses.replace(event, account_id="a-2")
    assert replaced.to_record()["payload"]["account_id"] == "a-2"  # not the original's record
