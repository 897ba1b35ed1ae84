"""Rules: the list, changes, dry runs, retroactive applies, and the rules Valorize suggests."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.params import JSONBody as Body
from msgspec import UNSET

from valorize_core.app import Valorize
from valorize_core.model.errors import ValidationError
from valorize_core.model.rule_suggestions import SuggestionStatus
from valorize_core.model.rules import ConditionGroup, Rule, action_from_data, condition_from_data
from valorize_core.use_cases.actions.create_rule import NewRule
from valorize_core.use_cases.actions.decide_rule_suggestion import SuggestionDecision
from valorize_core.use_cases.actions.delete_rule import RuleDeletion
from valorize_core.use_cases.actions.request_job import JobRequest
from valorize_core.use_cases.actions.update_rule import RuleChanges
from valorize_core.use_cases.queries.list_rule_suggestions import RuleSuggestionsQuery
from valorize_core.use_cases.queries.list_rules import RulesQuery
from valorize_core.use_cases.queries.preview_rule import RulePreviewQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.controllers.jobs import job_accepted
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS


def _conditions(data: dict[str, object], vz: Valorize) -> ConditionGroup:
    tree = condition_from_data(data, patterns=vz.ports.patterns)
    if not isinstance(tree, ConditionGroup):
        raise ValidationError.for_field("conditions", "must be a group: {match, conditions}")
    return tree


def _actions(items: list[dict[str, object]]) -> tuple:  # type: ignore[type-arg]
    return tuple(action_from_data(a, f"actions.{i}") for i, a in enumerate(items))


class RuleController(Controller):
    path = "/api/rules"
    tags = ("rules",)

    @get(responses=ERRORS, summary="Rules in the order they run")
    async def list_rules(self, vz: VZ, actor: Reader) -> list[s.RuleOut]:
        return [s.rule(r) for r in await vz.list_rules(RulesQuery(actor.tenant_id))]

    @get("/suggestions", responses=ERRORS, summary="Rules Valorize proposes from your corrections")
    async def list_suggestions(
        self, vz: VZ, actor: Reader, status: FromQuery[Literal["pending", "accepted", "dismissed"] | None] = None
    ) -> list[s.RuleSuggestionOut]:
        query = RuleSuggestionsQuery(actor.tenant_id, None if status is None else SuggestionStatus(status))
        found = await vz.list_rule_suggestions(query)
        return [s.rule_suggestion(x) for x in found]

    @post("/suggestions/{suggestion_id:uuid}/accept", responses=ERRORS, status_code=201,
          summary="Accept a suggestion: the rule is created after the existing ones")  # fmt: skip
    async def accept_suggestion(self, suggestion_id: FromPath[UUID], vz: VZ, writer: Writer) -> s.AcceptedSuggestionOut:
        accepted, rule = await vz.accept_rule_suggestion(SuggestionDecision(writer.tenant_id, suggestion_id))
        return s.AcceptedSuggestionOut(s.rule_suggestion(accepted), s.rule(rule))

    @post("/suggestions/{suggestion_id:uuid}/dismiss", responses=ERRORS, status_code=200,
          summary="Dismiss a suggestion: it is not proposed again")  # fmt: skip
    async def dismiss_suggestion(self, suggestion_id: FromPath[UUID], vz: VZ, writer: Writer) -> s.RuleSuggestionOut:
        return s.rule_suggestion(await vz.dismiss_rule_suggestion(SuggestionDecision(writer.tenant_id, suggestion_id)))

    @post(responses=ERRORS, status_code=201, summary="Create a rule")
    async def create_rule(self, data: Body[s.RuleIn], vz: VZ, writer: Writer) -> s.RuleOut:
        command = NewRule(
            writer.tenant_id,
            data.name,
            _conditions(data.conditions, vz),
            _actions(data.actions),
            data.position,
            data.stop_processing,
            data.enabled,
        )
        return s.rule(await vz.create_rule(command))

    @patch("/{rule_id:uuid}", responses=ERRORS, summary="Change a rule")
    async def update_rule(self, rule_id: FromPath[UUID], data: Body[s.RulePatch], vz: VZ, writer: Writer) -> s.RuleOut:
        command = RuleChanges(
            writer.tenant_id,
            rule_id,
            name=None if data.name is UNSET else data.name,
            conditions=None if data.conditions is UNSET else _conditions(data.conditions, vz),
            actions=None if data.actions is UNSET else _actions(data.actions),
            position=None if data.position is UNSET else data.position,
            stop_processing=None if data.stop_processing is UNSET else data.stop_processing,
            enabled=None if data.enabled is UNSET else data.enabled,
        )
        return s.rule(await vz.update_rule(command))

    @delete("/{rule_id:uuid}", responses=ERRORS, summary="Delete a rule")
    async def delete_rule(self, rule_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_rule(RuleDeletion(writer.tenant_id, rule_id))

    @post(
        "/preview", responses=ERRORS, status_code=200, summary="Dry run of a rule (saved or not) over your transactions"
    )
    async def preview(
        self,
        data: Body[s.RuleIn],
        vz: VZ,
        actor: Reader,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> s.RulePreviewOut:
        candidate = Rule(
            vz.ports.ids.new_id(),
            actor.tenant_id,
            data.name,
            data.position or 0,
            _conditions(data.conditions, vz),
            _actions(data.actions),
            vz.ports.clock.now(),
            data.stop_processing,
            True,
        )
        previews, total = await vz.preview_rule(RulePreviewQuery(actor.tenant_id, candidate, limit=limit))
        items = [
            s.RuleMatchOut(
                s.transaction(p.before),
                s.transaction(p.after),
                list(p.match.reasons),
                list(p.match.applied),
                list(p.match.skipped),
            )
            for p in previews
        ]
        return s.RulePreviewOut(total, items)

    @post(
        "/apply",
        responses=ERRORS,
        status_code=202,
        summary="Apply rules to existing transactions, in the background (follow the job)",
    )
    async def apply(self, data: Body[s.ApplyRulesIn], vz: VZ, writer: Writer) -> Response[s.JobOut]:
        ids = None if data.rule_ids is None else [str(i) for i in data.rule_ids]
        params = {"rule_ids": ids, "include_manual": data.include_manual}
        return job_accepted(await vz.request_job(JobRequest(writer.tenant_id, "apply_rules", params)))
