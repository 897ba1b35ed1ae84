"""Action: change a rule."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from uuid import UUID

from valorize_core.model.rules import Action, ConditionGroup, Rule
from valorize_core.model.rules.ordering import placed
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require, require_pattern_budget, require_rule_references

__all__ = ["RuleChanges", "UpdateRule"]


@dataclass(frozen=True, slots=True)
class RuleChanges:
    """Fields to change; ``None`` leaves a field as it is. A new ``position`` moves the rule
    there and shifts the rules between its old and new place by one (past the end: last)."""

    tenant_id: UUID
    rule_id: UUID
    name: str | None = None
    conditions: ConditionGroup | None = None
    actions: tuple[Action, ...] | None = None
    position: int | None = None
    stop_processing: bool | None = None
    enabled: bool | None = None


class UpdateRule:
    """Changes a rule, validating it whole."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: RuleChanges) -> Rule:
        """Apply the changes and return the rule."""
        async with self._ports.uow(command.tenant_id) as uow:
            if command.position is not None:
                await uow.rules.hold_order()
            # Held: a concurrent edit of another field waits, and this one writes back its result.
            rule = await require(partial(uow.rules.get, for_update=True), command.rule_id, "rule")
            changes = {
                name: getattr(command, name)
                for name in ("name", "conditions", "actions", "position", "stop_processing", "enabled")
                if getattr(command, name) is not None
            }
            changed = Rule(**{**{f: getattr(rule, f) for f in Rule.__dataclass_fields__}, **changes})
            await require_rule_references(uow, changed, hold=True)
            await require_pattern_budget(uow, changed)
            if command.position is not None:
                changed, shifted = placed(await uow.rules.list(), changed, command.position)
                for other in shifted:
                    await uow.rules.update(other)
            await uow.rules.update(replace(changed))
            uow.retires()  # no cached read shows rules; the writes they categorize declare their own
            await uow.commit()
        return changed
