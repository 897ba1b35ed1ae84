"""Categorization rules: ordered, nested conditions, actions, explanations.

A rule matches when its condition group does. Groups combine conditions (or other groups) with
``all`` (AND) or ``any`` (OR), to any depth up to ``MAX_DEPTH``, and every condition or group
can be negated, so ``(description contains "uber" OR payee equals "99") AND NOT amount > 100``
is one rule. Rules run in ``position`` order; each matching rule's actions apply in turn (a
later ``set_category`` wins), and a rule with ``stop_processing`` ends the run. Every outcome
says which rules fired and why.

``regex`` conditions run on a :class:`~valorize_core.ports.patterns.PatternEngine` passed as
``patterns`` (RE2 in the adapters): linear in the text, so no pattern can stall a caller.
Without an engine they are refused (:mod:`valorize_core.model.patterns`).

The package's rooms: :mod:`.conditions` (fields, operators, conditions, groups),
:mod:`.actions` (what a rule does), :mod:`.engine` (rules and how they run) and :mod:`.codec`
(their plain-data form).
"""

from valorize_core.model.rules.actions import Action, AddTag, RenamePayee, SetCategory, SplitBy, SplitPart
from valorize_core.model.rules.codec import action_from_data, action_to_data, condition_from_data, condition_to_data
from valorize_core.model.rules.conditions import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_TENANT_PATTERNS,
    Condition,
    ConditionGroup,
    Field,
    Match,
    Operator,
)
from valorize_core.model.rules.engine import Rule, RuleMatch, RuleOutcome, apply_rules

__all__ = [
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_TENANT_PATTERNS",
    "Action",
    "AddTag",
    "Condition",
    "ConditionGroup",
    "Field",
    "Match",
    "Operator",
    "RenamePayee",
    "Rule",
    "RuleMatch",
    "RuleOutcome",
    "SetCategory",
    "SplitBy",
    "SplitPart",
    "action_from_data",
    "action_to_data",
    "apply_rules",
    "condition_from_data",
    "condition_to_data",
]
