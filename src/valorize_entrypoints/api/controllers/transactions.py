"""Transactions, transfers, category corrections and suggestions."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, cast
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, QueryParameter
from litestar.params import JSONBody as Body
from msgspec import UNSET

from valorize_core.model.listing import MAX_PAGE_SIZE
from valorize_core.use_cases.actions.correct_category import CategoryCorrection, CategoryCorrections
from valorize_core.use_cases.actions.create_transaction import NewTransaction, SplitInput
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.delete_transaction import TransactionDeletion
from valorize_core.use_cases.actions.request_job import JobRequest
from valorize_core.use_cases.actions.update_transaction import TransactionChanges
from valorize_core.use_cases.queries.get_transaction import TransactionLookup
from valorize_core.use_cases.queries.list_transactions import TransactionQuery
from valorize_core.use_cases.queries.suggest_categories import SuggestionQuery, SuggestionsQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.asgi import Scope
from valorize_entrypoints.api.auth import Actor, authenticated
from valorize_entrypoints.api.caching import cached_read, cached_response
from valorize_entrypoints.api.controllers.jobs import job_accepted
from valorize_entrypoints.api.deps import RT, VZ, Reader, Writer
from valorize_entrypoints.api.filters import FILTERS, Filters, page_query
from valorize_entrypoints.api.responses import ERRORS
from valorize_entrypoints.api.route_checks import ANSWER
from valorize_entrypoints.container import Runtime


def _splits(items: list[s.SplitIn]) -> tuple[SplitInput, ...]:
    return tuple(SplitInput(i.amount, i.category_id, i.memo) for i in items)


async def _page(
    request: Request[Any, Any, Any], runtime: Runtime, actor: Actor, query: TransactionQuery
) -> Response[s.TransactionPageOut]:
    """A page of the list, from the read cache or computed."""

    async def compute() -> s.TransactionPageOut:
        page = await runtime.app.list_transactions.views(query)
        return s.TransactionPageOut([s.transaction_shown(v) for v in page.items], page.next_cursor)

    return await cached_response(request, runtime, actor, compute)


async def _page_answered(request: Request[Any, Any, Any]) -> Response[s.TransactionPageOut] | None:
    """The list route answered by the app's route check (``route_checks.ANSWER``), its query
    string read in one msgspec conversion (:func:`page_query`) instead of Litestar's reading of
    thirteen parameters and four dependencies; ``None`` (Litestar reads it) when it does not
    convert, so that a bad query gets Litestar's own error."""
    runtime: Runtime = request.app.state.runtime
    actor = await authenticated(cast("Scope", request.scope), runtime.app)  # found by the access check
    query = page_query(actor.tenant_id, request.query_params.multi_items())
    return None if query is None else await _page(request, runtime, actor, query)


class TransactionController(Controller):
    path = "/api/transactions"
    tags = ("transactions",)

    @post("/categorize", responses=ERRORS, status_code=202,
          summary="Categorize every uncategorized transaction (of one account) in the background")  # fmt: skip
    async def categorize(self, data: Body[s.CategorizeIn], vz: VZ, writer: Writer) -> Response[s.JobOut]:
        params = {"account_id": None if data.account_id is None else str(data.account_id)}
        return job_accepted(await vz.request_job(JobRequest(writer.tenant_id, "categorize", params)))

    @get(
        responses=ERRORS,
        summary="Transactions, newest first, filtered, one page at a time (cursor)",
        opt={**cached_read("transactions"), ANSWER: _page_answered},
        dependencies=FILTERS,
    )
    async def list_transactions(
        self,
        request: Request[Any, Any, Any],
        actor: Reader,
        runtime: RT,
        filters: Filters,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
    ) -> Response[s.TransactionPageOut]:
        # Runs only for a query string :func:`page_query` does not take: Litestar has read it (or
        # refused it with its own error) by this signature, which is also the route's OpenAPI.
        return await _page(request, runtime, actor, dataclasses.replace(filters, cursor=cursor, limit=limit))

    @post(responses=ERRORS, status_code=201, summary="Record a transaction (categorized on the way in)")
    async def create_transaction(self, data: Body[s.TransactionIn], vz: VZ, writer: Writer) -> s.TransactionOut:
        command = NewTransaction(
            writer.tenant_id,
            data.account_id,
            data.booked_on,
            data.description,
            data.amount,
            _splits(data.splits),
            data.category_id,
            data.payee,
            tuple(data.tags),
            data.status,
            data.external_id,
        )
        return s.transaction(await vz.create_transaction(command))

    @get("/{transaction_id:uuid}", responses=ERRORS, summary="One transaction")
    async def get_transaction(self, transaction_id: FromPath[UUID], vz: VZ, actor: Reader) -> s.TransactionOut:
        return s.transaction(await vz.get_transaction(TransactionLookup(actor.tenant_id, transaction_id)))

    @patch("/{transaction_id:uuid}", responses=ERRORS, summary="Edit: fields, amount, splits, or recategorize")
    async def update_transaction(
        self,
        transaction_id: FromPath[UUID],
        data: Body[s.TransactionPatch],
        vz: VZ,
        writer: Writer,
    ) -> s.TransactionOut:
        category: UUID | str | None = None
        if data.category_id is not UNSET:
            category = "none" if data.category_id is None else data.category_id
        command = TransactionChanges(
            writer.tenant_id,
            transaction_id,
            booked_on=None if data.booked_on is UNSET else data.booked_on,
            description=None if data.description is UNSET else data.description,
            payee=None if data.payee is UNSET else data.payee,
            amount=None if data.amount is UNSET else data.amount,
            splits=None if data.splits is UNSET else _splits(data.splits),
            category_id=category,
            tags=None if data.tags is UNSET else tuple(data.tags),
            status=None if data.status is UNSET else data.status,
            account_id=None if data.account_id is UNSET else data.account_id,
        )
        return s.transaction(await vz.update_transaction(command))

    @delete("/{transaction_id:uuid}", responses=ERRORS, summary="Delete a transaction (both legs of a transfer)")
    async def delete_transaction(self, transaction_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_transaction(TransactionDeletion(writer.tenant_id, transaction_id))

    @post(
        "/{transaction_id:uuid}/category",
        responses=ERRORS,
        status_code=200,
        summary="Correct the category; it is learned at once",
    )
    async def correct_category(
        self, transaction_id: FromPath[UUID], data: Body[s.CorrectionIn], vz: VZ, writer: Writer
    ) -> s.TransactionOut:
        command = CategoryCorrection(writer.tenant_id, transaction_id, data.category_id)
        return s.transaction(await vz.correct_category(command))

    @post(
        "/corrections",
        responses=ERRORS,
        status_code=200,
        summary="Correct many categories at once (all or none); each is learned as a single correction is",
    )
    async def correct_categories(self, data: Body[s.CorrectionsIn], vz: VZ, writer: Writer) -> list[s.TransactionOut]:
        pairs = tuple((c.transaction_id, c.category_id) for c in data.corrections)
        return [s.transaction(t) for t in await vz.correct_categories(CategoryCorrections(writer.tenant_id, pairs))]

    @post(
        "/suggestions",
        responses=ERRORS,
        status_code=200,
        summary="Top category suggestions for many transactions at once (a page of uncategorized rows)",
    )
    async def suggestions_many(self, data: Body[s.SuggestionsIn], vz: VZ, actor: Reader) -> list[s.SuggestionsOut]:
        query = SuggestionsQuery(actor.tenant_id, tuple(data.transaction_ids), data.limit)
        found = await vz.suggest_categories_many(query)
        return [s.SuggestionsOut(tx.id, [s.suggestion(x) for x in suggested]) for tx, suggested in found]

    @get(
        "/{transaction_id:uuid}/suggestions", responses=ERRORS, summary="Top category suggestions, each with its reason"
    )
    async def suggestions(
        self,
        transaction_id: FromPath[UUID],
        vz: VZ,
        actor: Reader,
        limit: Annotated[int, QueryParameter(ge=1, le=10)] = 3,
    ) -> list[s.SuggestionOut]:
        found = await vz.suggest_categories(SuggestionQuery(actor.tenant_id, transaction_id, limit))
        return [s.suggestion(x) for x in found]


class TransferController(Controller):
    path = "/api/transfers"
    tags = ("transactions",)

    @post(responses=ERRORS, status_code=201, summary="Move money between two of your accounts")
    async def create_transfer(self, data: Body[s.TransferIn], vz: VZ, writer: Writer) -> s.TransferOut:
        command = NewTransfer(
            writer.tenant_id, data.from_account_id, data.to_account_id, data.amount, data.booked_on, data.description,
            data.to_amount, data.rate,
        )  # fmt: skip
        return s.transfer(await vz.create_transfer(command))
