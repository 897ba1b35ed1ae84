"""Adversarial review of event records made once and handed out as copies: the copy is shallow
(the payload dict is copied, not its values), so it holds only while no event carries a
mutable payload value; a follow-up task's body, a bus subscriber's record or a pickled event
cannot change what the outbox or another consumer sees."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import typing
import uuid
from datetime import UTC, datetime

import pytest
from world import transaction_created

from valorize_core.model.events import EVENT_TYPES, TransactionCreated, TransactionUpdated
from valorize_core.runtime.relay import follow_up_tasks

_MUTABLE = (list, dict, set, bytearray)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES), ids=str)
def test_no_event_carries_a_mutable_payload_value(name: str) -> None:
    event_type = EVENT_TYPES[name]
    hints = typing.get_type_hints(event_type)
    for f in dataclasses.fields(event_type):
        if f.name.startswith("_"):
            continue
        for part in (hints[f.name], *typing.get_args(hints[f.name])):
            origin = typing.get_origin(part) or part
            assert not (isinstance(origin, type) and issubclass(origin, _MUTABLE)), (event_type.name, f.name, part)


def test_a_task_body_changed_by_its_handler_leaves_the_outbox_record_alone() -> None:
    event = transaction_created()
    outbox = event.to_record()
    tasks = follow_up_tasks(event)
    bodies = [body for t in tasks for body in t.payload.get("events", [])]
    assert bodies
    for body in bodies:
        body["payload"]["amount_minor"] = 1
        body["payload"].clear()
        body["name"] = "changed"
    assert event.to_record() == outbox
    assert [t.payload for t in follow_up_tasks(event)] == [t.payload for t in follow_up_tasks(_same(event))]
    assert event.to_json() == _same(event).to_json()


def _same(event: TransactionCreated) -> TransactionCreated:
    """The event as it was made, without its kept record."""
    return dataclasses.replace(event)


def test_a_copied_or_pickled_event_keeps_its_own_record() -> None:
    event = TransactionUpdated(
        event_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        transaction_id="t",
        account_id="a",
        changes=("amount", "splits"),
    )
    made = event.to_record()
    for other in (copy.copy(event), copy.deepcopy(event), pickle.loads(pickle.dumps(event))):
        assert other == event
        theirs = other.to_record()
        theirs["payload"]["account_id"] = "changed"
        assert event.to_record() == made
        assert other.to_record() == made
