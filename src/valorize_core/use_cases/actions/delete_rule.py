"""Action: delete a rule."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.rules.ordering import without
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["DeleteRule", "RuleDeletion"]


@dataclass(frozen=True, slots=True)
class RuleDeletion:
    """Which rule to delete."""

    tenant_id: UUID
    rule_id: UUID


class DeleteRule:
    """Deletes a rule; transactions it categorized keep their categories, the rules after it
    move up by one."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: RuleDeletion) -> None:
        """Delete it."""
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.rules.hold_order()
            rule = await require(uow.rules.get, command.rule_id, "rule")
            await uow.rules.remove(rule.id)
            for other in without(await uow.rules.list(), rule.id):
                await uow.rules.update(other)
            uow.retires()  # no cached read shows rules; the writes they categorize declare their own
            await uow.commit()
