"""Accounts and categories."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery
from litestar.params import JSONBody as Body
from msgspec import UNSET

from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.delete_account import AccountDeletion
from valorize_core.use_cases.actions.delete_category import CategoryDeletion
from valorize_core.use_cases.actions.update_account import AccountChanges
from valorize_core.use_cases.actions.update_category import KEEP, CategoryChanges
from valorize_core.use_cases.queries.get_account import AccountLookup
from valorize_core.use_cases.queries.list_accounts import AccountsQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.caching import cached_read, cached_response
from valorize_entrypoints.api.deps import RT, VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS


def _opt(value: object) -> object:
    return None if value is UNSET else value


class AccountController(Controller):
    path = "/api/accounts"
    tags = ("accounts",)

    @get(responses=ERRORS, summary="Accounts with their balances", opt=cached_read("accounts"))
    async def list_accounts(
        self,
        request: Request[Any, Any, Any],
        vz: VZ,
        actor: Reader,
        runtime: RT,
        include_archived: FromQuery[bool] = False,
    ) -> Response[list[s.AccountOut]]:
        async def compute() -> list[s.AccountOut]:
            return [s.account(a) for a in await vz.list_accounts(AccountsQuery(actor.tenant_id, include_archived))]

        return await cached_response(request, runtime, actor, compute)

    @get("/{account_id:uuid}", responses=ERRORS, summary="One account")
    async def get_account(self, vz: VZ, actor: Reader, account_id: FromPath[UUID]) -> s.AccountOut:
        return s.account(await vz.get_account(AccountLookup(actor.tenant_id, account_id)))

    @post(responses=ERRORS, status_code=201, summary="Open an account")
    async def create_account(self, data: Body[s.AccountIn], vz: VZ, writer: Writer) -> s.AccountOut:
        command = NewAccount(
            writer.tenant_id, data.name, data.kind, data.currency, data.opening_balance, data.opened_on
        )
        return s.account(await vz.create_account(command))

    @patch("/{account_id:uuid}", responses=ERRORS, summary="Rename, re-kind, archive, or correct the opening balance")
    async def update_account(
        self, account_id: FromPath[UUID], data: Body[s.AccountPatch], vz: VZ, writer: Writer
    ) -> s.AccountOut:
        command = AccountChanges(
            writer.tenant_id, account_id, _opt(data.name), _opt(data.kind), _opt(data.archived),  # type: ignore[arg-type]
            _opt(data.opening_balance),  # type: ignore[arg-type]
        )  # fmt: skip
        return s.account(await vz.update_account(command))

    @delete("/{account_id:uuid}", responses=ERRORS, summary="Delete an account without transactions")
    async def delete_account(self, account_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_account(AccountDeletion(writer.tenant_id, account_id))


class CategoryController(Controller):
    path = "/api/categories"
    tags = ("categories",)

    @get(responses=ERRORS, summary="The category tree, flat")
    async def list_categories(self, vz: VZ, actor: Reader) -> list[s.CategoryOut]:
        from valorize_core.use_cases.queries.list_categories import CategoriesQuery

        return [s.category(c) for c in await vz.list_categories(CategoriesQuery(actor.tenant_id))]

    @post(responses=ERRORS, status_code=201, summary="Add a category")
    async def create_category(self, data: Body[s.CategoryIn], vz: VZ, writer: Writer) -> s.CategoryOut:
        created = await vz.create_category(NewCategory(writer.tenant_id, data.name, data.kind, data.parent_id))
        return s.category(created)

    @patch("/{category_id:uuid}", responses=ERRORS, summary="Rename, re-kind or move a category")
    async def update_category(
        self, category_id: FromPath[UUID], data: Body[s.CategoryPatch], vz: VZ, writer: Writer
    ) -> s.CategoryOut:
        command = CategoryChanges(
            writer.tenant_id, category_id, _opt(data.name), _opt(data.kind),  # type: ignore[arg-type]
            KEEP if data.parent_id is UNSET else data.parent_id,
        )  # fmt: skip
        return s.category(await vz.update_category(command))

    @delete("/{category_id:uuid}", responses=ERRORS, summary="Delete a category; its transactions become uncategorized")
    async def delete_category(self, category_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_category(CategoryDeletion(writer.tenant_id, category_id))
