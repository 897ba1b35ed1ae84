"""The order of a tenant's rules: positions ``0 … n-1``, one rule each.

A person moving a rule to a place expects the rules from that place on to shift down by one,
not two rules sharing the place (with the id deciding which runs first). So every change of
the set or the order renumbers the whole list densely: :func:`placed` puts one rule (new or
moved) at a position, :func:`without` closes the gap a deleted rule leaves. Both return only
the rules whose position changed, so a caller writes no more than it must.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from valorize_core.model.rules.engine import Rule

__all__ = ["placed", "without"]


def _in_order(rules: Sequence[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (r.position, r.id))


def _renumbered(ordered: Sequence[Rule]) -> list[Rule]:
    return [replace(r, position=i) for i, r in enumerate(ordered) if r.position != i]


def placed(rules: Sequence[Rule], rule: Rule, position: int | None) -> tuple[Rule, list[Rule]]:
    """``rule`` put at ``position`` among ``rules`` (the tenant's rules; ``rule`` among them
    when it is moved, not when it is new): the rule as stored and every other rule whose
    position changed. ``None`` or a position past the end puts it last."""
    ordered = [r for r in _in_order(rules) if r.id != rule.id]
    at = len(ordered) if position is None else min(position, len(ordered))
    ordered.insert(at, rule)
    changed = {r.id: r for r in _renumbered(ordered)}
    stored = changed.pop(rule.id, rule)
    return stored, list(changed.values())


def without(rules: Sequence[Rule], rule_id: UUID) -> list[Rule]:
    """The rules whose position changes when ``rule_id`` leaves ``rules``."""
    return _renumbered([r for r in _in_order(rules) if r.id != rule_id])
