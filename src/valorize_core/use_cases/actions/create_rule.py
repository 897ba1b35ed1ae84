"""Action: add a categorization rule."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.rules import Action, ConditionGroup, Rule
from valorize_core.model.rules.ordering import placed
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require_pattern_budget, require_rule_references

__all__ = ["CreateRule", "NewRule"]


@dataclass(frozen=True, slots=True)
class NewRule:
    """A rule; ``position`` ``None`` (or past the end) puts it after every existing rule, a
    position taken shifts the rule there and those after it down by one."""

    tenant_id: UUID
    name: str
    conditions: ConditionGroup
    actions: tuple[Action, ...]
    position: int | None = None
    stop_processing: bool = False
    enabled: bool = True


class CreateRule:
    """Adds a rule whose categories and accounts all exist."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewRule) -> Rule:
        """Create and return the rule."""
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.rules.hold_order()
            existing = await uow.rules.list()
            rule = Rule(
                id=self._ports.ids.new_id(),
                tenant_id=command.tenant_id,
                name=command.name,
                position=len(existing),
                conditions=command.conditions,
                actions=command.actions,
                created_at=self._ports.clock.now(),
                stop_processing=command.stop_processing,
                enabled=command.enabled,
            )
            await require_rule_references(uow, rule, hold=True)
            await require_pattern_budget(uow, rule)
            rule, shifted = placed(existing, rule, command.position)
            for other in shifted:
                await uow.rules.update(other)
            await uow.rules.add(rule)
            uow.retires()  # no cached read shows rules; the writes they categorize declare their own
            await uow.commit()
        return rule
