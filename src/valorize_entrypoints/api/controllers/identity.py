"""Signup, API tokens and members. Who may call each route is in ``api/policy.py``: tokens and
members are the owners' (an owner token's)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath
from litestar.params import JSONBody as Body

from valorize_core.app import Valorize
from valorize_core.model.errors import NotFound
from valorize_core.model.identity import ApiToken
from valorize_core.runtime.token_cache import CachingDirectory
from valorize_core.use_cases.actions.manage_members import MemberRemoval, MemberRoleChange, NewMember
from valorize_core.use_cases.actions.manage_tokens import NewToken, TokenRevocation
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.queries.get_user import UserLookup
from valorize_core.use_cases.queries.list_members import MembersQuery
from valorize_core.use_cases.queries.list_tokens import TokensQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.deps import VZ, Reader
from valorize_entrypoints.api.idempotency import HOLDS_SECRET
from valorize_entrypoints.api.responses import ERRORS


def _forget(vz: Valorize, tokens: Iterable[ApiToken]) -> None:
    """This process stops trusting what it remembered of these tokens at once (the others
    within ``VALORIZE_TOKEN_CACHE_TTL``)."""
    if isinstance(vz.ports.directory, CachingDirectory):
        for token in tokens:
            vz.ports.directory.forget(token.id)


class SignupController(Controller):
    path = "/api/signup"
    tags = ("identity",)

    @post(
        responses=ERRORS,
        status_code=201,
        summary="Create a tenant, its owner and a first API token (shown once)",
        opt={HOLDS_SECRET: True},
    )
    async def signup(self, data: Body[s.SignupIn], vz: VZ) -> s.SignupOut:
        result = await vz.signup(SignupRequest(data.tenant_name, data.email, data.name))
        return s.SignupOut(result.tenant.id, result.user.id, result.token.id, result.token_secret)


class SessionController(Controller):
    path = "/api/me"
    tags = ("identity",)

    @get(responses=ERRORS, summary="Who the calling token is: tenant, user, role (what the dashboard shows)")
    async def me(self, vz: VZ, actor: Reader) -> s.MeOut:
        user = await vz.get_user(UserLookup(actor.tenant_id, actor.user_id))
        return s.MeOut(actor.tenant_id, actor.user_id, actor.token_id, actor.role.value, user.name, user.email)


class TokenController(Controller):
    path = "/api/tokens"
    tags = ("identity",)

    @get(responses=ERRORS, summary="Every token of the tenant (owners)")
    async def list_tokens(self, vz: VZ, actor: Reader) -> list[s.TokenOut]:
        return [s.token(t) for t in await vz.list_tokens(TokensQuery(actor.tenant_id))]

    @post(
        responses=ERRORS,
        status_code=201,
        summary="Create a token (owners) for yourself or a member: at most your token's role and the member's; "
        "the secret is shown once",
        opt={HOLDS_SECRET: True},
    )
    async def create_token(self, data: Body[s.TokenIn], vz: VZ, actor: Reader) -> s.TokenCreated:
        user = actor.user_id if data.user_id is None else data.user_id
        try:
            issued = await vz.create_token(NewToken(actor.tenant_id, user, data.name, data.role, actor.role))
        except NotFound:
            raise NotFound("member", user) from None
        return s.TokenCreated(issued.secret, s.token(issued.token))

    @post("/{token_id:uuid}/revoke", responses=ERRORS, status_code=200, summary="Revoke a token (owners)")
    async def revoke_token(self, vz: VZ, actor: Reader, token_id: FromPath[UUID]) -> s.TokenOut:
        try:
            revoked = await vz.revoke_token(TokenRevocation(actor.tenant_id, token_id, actor.user_id, actor.role))
        except NotFound:
            raise NotFound("token", token_id) from None
        _forget(vz, [revoked])
        return s.token(revoked)


class MemberController(Controller):
    path = "/api/members"
    tags = ("identity",)

    @get(responses=ERRORS, summary="The tenant's members and their roles (owners)")
    async def list_members(self, vz: VZ, actor: Reader) -> list[s.MemberOut]:
        return [s.member(m) for m in await vz.list_members(MembersQuery(actor.tenant_id))]

    @post(
        responses=ERRORS,
        status_code=201,
        summary="Invite a person (owners): their own user, role and first token, whose secret is shown once",
        opt={HOLDS_SECRET: True},
    )
    async def invite(self, data: Body[s.MemberIn], vz: VZ, actor: Reader) -> s.MemberInvited:
        invited = await vz.invite_member(NewMember(actor.tenant_id, data.email, data.name, data.role, actor.role))
        return s.MemberInvited(s.member(invited.member), invited.secret, s.token(invited.token))

    @patch("/{user_id:uuid}", responses=ERRORS, summary="Change a member's role (owners); the last owner stays")
    async def change_role(
        self, user_id: FromPath[UUID], data: Body[s.MemberPatch], vz: VZ, actor: Reader
    ) -> s.MemberOut:
        changed = await vz.change_member_role(MemberRoleChange(actor.tenant_id, user_id, data.role, actor.role))
        _forget(vz, changed.tokens)
        return s.member(changed.member)

    @delete("/{user_id:uuid}", responses=ERRORS, summary="Remove a member and revoke their tokens (owners)")
    async def remove(self, user_id: FromPath[UUID], vz: VZ, actor: Reader) -> None:
        removed = await vz.remove_member(MemberRemoval(actor.tenant_id, user_id, actor.role))
        _forget(vz, removed.tokens)
