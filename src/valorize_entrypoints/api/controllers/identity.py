"""Signup and API tokens."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.params import JSONBody as Body

from valorize_core.actions.manage_tokens import NewToken, TokenRevocation
from valorize_core.actions.signup import SignupRequest
from valorize_core.errors import NotFound
from valorize_core.token_cache import CachingDirectory
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.deps import VZ, Reader
from valorize_entrypoints.api.responses import ERRORS


class SignupController(Controller):
    path = "/api/signup"
    tags = ("identity",)

    @post(responses=ERRORS, status_code=201, summary="Create a tenant, its owner and a first API token (shown once)")
    async def signup(self, data: Body[s.SignupIn], vz: VZ) -> s.SignupOut:
        result = await vz.signup(SignupRequest(data.tenant_name, data.email, data.name))
        return s.SignupOut(result.tenant.id, result.user.id, result.token.id, result.token_secret)


class TokenController(Controller):
    path = "/api/tokens"
    tags = ("identity",)

    @get(responses=ERRORS, summary="List your tokens (owners see every token of the tenant)")
    async def list_tokens(self, vz: VZ, actor: Reader) -> list[s.TokenOut]:
        async with vz.ports.uow(actor.tenant_id) as uow:
            user = None if actor.role.can_manage_members else actor.user_id
            return [s.token(t) for t in await uow.identity.list_tokens(user)]

    @post(
        responses=ERRORS,
        status_code=201,
        summary="Create a token for yourself (at most your own role); the secret is shown once",
    )
    async def create_token(self, data: Body[s.TokenIn], vz: VZ, actor: Reader) -> s.TokenCreated:
        issued = await vz.create_token(NewToken(actor.tenant_id, actor.user_id, data.name, data.role))
        return s.TokenCreated(issued.secret, s.token(issued.token))

    @post("/{token_id:uuid}/revoke", responses=ERRORS, status_code=200, summary="Revoke a token")
    async def revoke_token(self, vz: VZ, actor: Reader, token_id: FromPath[UUID]) -> s.TokenOut:
        try:
            revoked = await vz.revoke_token(TokenRevocation(actor.tenant_id, token_id, actor.user_id, actor.role))
        except NotFound:
            raise NotFound("token", token_id) from None
        if isinstance(vz.ports.directory, CachingDirectory):  # this process stops trusting it at once
            vz.ports.directory.forget(revoked.id)
        return s.token(revoked)
