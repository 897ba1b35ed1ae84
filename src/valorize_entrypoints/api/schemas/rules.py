"""Rules, their previews and the rules Valorize suggests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from valorize_core.model.rule_suggestions import RuleSuggestion
from valorize_core.model.rules import Rule, action_to_data, condition_to_data
from valorize_entrypoints.api.schemas.common import JsonObject, Name
from valorize_entrypoints.api.schemas.transactions import TransactionOut

__all__ = [
    "AcceptedSuggestionOut",
    "ApplyRulesIn",
    "RuleIn",
    "RuleMatchOut",
    "RuleOut",
    "RulePatch",
    "RulePreviewOut",
    "RuleSuggestionOut",
    "rule",
    "rule_suggestion",
]


class RuleIn(Struct, forbid_unknown_fields=True):
    """``conditions``: a group ``{"match": "all"|"any", "negate": bool, "conditions": [...]}``
    whose members are groups or ``{"field", "operator", "value", "negate"}``; ``actions``: a
    list of ``{"type": "set_category"|"rename_payee"|"add_tag"|"split", ...}``."""

    name: Name
    conditions: JsonObject
    actions: Annotated[list[JsonObject], Meta(min_length=1, max_length=20)]
    position: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    stop_processing: bool = False
    enabled: bool = True


class RulePatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    conditions: JsonObject | UnsetType = UNSET
    actions: Annotated[list[JsonObject], Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    position: Annotated[int, Meta(ge=0, le=1_000_000)] | UnsetType = UNSET
    stop_processing: bool | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class RuleOut(Struct):
    id: UUID
    name: str
    position: int
    conditions: JsonObject
    actions: list[JsonObject]
    stop_processing: bool
    enabled: bool
    created_at: datetime


def rule(r: Rule) -> RuleOut:
    return RuleOut(
        r.id, r.name, r.position, condition_to_data(r.conditions), [action_to_data(a) for a in r.actions],
        r.stop_processing, r.enabled, r.created_at,
    )  # fmt: skip


class RuleMatchOut(Struct):
    transaction: TransactionOut
    after: TransactionOut
    reasons: list[str]
    applied: list[str]
    skipped: list[str]


class RulePreviewOut(Struct):
    total: int
    items: list[RuleMatchOut]


class ApplyRulesIn(Struct, forbid_unknown_fields=True):
    rule_ids: list[UUID] | None = None
    include_manual: bool = False


class RuleSuggestionOut(Struct):
    """A proposed rule: ``payee`` equals → set ``category_id``, and why."""

    id: UUID
    payee: str
    payee_key: str
    category_id: UUID
    agreeing: int
    total: int
    reason: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    rule_id: UUID | None = None


def rule_suggestion(x: RuleSuggestion) -> RuleSuggestionOut:
    return RuleSuggestionOut(x.id, x.payee, x.payee_key, x.category_id, x.agreeing, x.total, x.reason,
                             x.status.value, x.created_at, x.decided_at, x.rule_id)  # fmt: skip


class AcceptedSuggestionOut(Struct):
    suggestion: RuleSuggestionOut
    rule: RuleOut
