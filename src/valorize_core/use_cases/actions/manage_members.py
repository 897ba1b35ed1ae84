"""Actions: invite a person into a tenant, change their role, remove them.

An invitation creates the person's own user, their membership with a role and their first
token, whose secret is returned once (to the owner, who hands it over). Only a role that covers
another's manages it: nobody grants, changes or removes a role above the one of the token that
asks. A tenant always keeps an owner: the last one can be neither demoted nor removed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.model.errors import Conflict, NotFound, PermissionDenied
from valorize_core.model.identity import (
    ApiToken,
    Member,
    Membership,
    Role,
    User,
    generate_token_secret,
    hash_token,
    normalize_email,
    parse_role,
)
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.context import Ports

__all__ = [
    "ChangeMemberRole",
    "InviteMember",
    "InvitedMember",
    "MemberChange",
    "MemberRemoval",
    "MemberRoleChange",
    "NewMember",
    "RemoveMember",
]


def _may_grant(granted_by: Role | str, role: Role) -> None:
    asking = Role(granted_by)
    if not asking.covers(role):
        raise PermissionDenied(f"a {asking} token cannot manage a {role}")


@dataclass(frozen=True, slots=True)
class NewMember:
    """Who to invite and with which role; ``granted_by`` is the asking token's role."""

    tenant_id: UUID
    email: str
    name: str
    role: Role | str
    granted_by: Role | str


@dataclass(frozen=True, slots=True)
class InvitedMember:
    """The new member, their first token and its secret, shown this once."""

    member: Member
    token: ApiToken
    secret: str


class InviteMember:
    """Gives a new person their own user, a membership and a first token in one unit of work."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewMember) -> InvitedMember:
        """Invite; an e-mail already a member here, or registered by another tenant, is a
        :class:`Conflict`. A former member of this tenant comes back with their own user."""
        role = parse_role(command.role)
        _may_grant(command.granted_by, role)
        email = normalize_email(command.email)
        now = self._ports.clock.now()
        async with self._ports.uow(command.tenant_id) as uow:
            user = await uow.identity.home_user_by_email(email)
            if user is None:
                if await self._ports.directory.user_by_email(email) is not None:
                    raise Conflict("that e-mail is already registered")
                user = User(self._ports.ids.new_id(), email, command.name, now)
                await uow.identity.add_user(user)
            elif await uow.identity.get_membership(user.id) is not None:
                raise Conflict("that person is already a member")
            await uow.identity.add_membership(Membership(command.tenant_id, user.id, role))
            secret = generate_token_secret()
            token = ApiToken(
                self._ports.ids.new_id(), command.tenant_id, user.id, "first token", hash_token(secret), role, now,
                last_four=secret[-4:],
            )  # fmt: skip
            await uow.identity.add_token(token)
            await uow.commit()
        return InvitedMember(Member(user, role), token, secret)


@dataclass(frozen=True, slots=True)
class MemberChange:
    """A member as they are now, and their tokens this change touched (lowered or revoked):
    token caches must forget these at once."""

    member: Member
    tokens: tuple[ApiToken, ...]


async def _locked_member(uow: UnitOfWork, user_id: UUID) -> tuple[Member, int]:
    """The member (their membership held until the unit of work ends) and how many owners
    the tenant has."""
    members = await uow.identity.list_members(for_update=True)
    found = next((m for m in members if m.user.id == user_id), None)
    if found is None:
        raise NotFound("member", user_id)
    return found, sum(1 for m in members if m.role is Role.OWNER)


@dataclass(frozen=True, slots=True)
class MemberRoleChange:
    """A member's new role; ``granted_by`` is the asking token's role."""

    tenant_id: UUID
    user_id: UUID
    role: Role | str
    granted_by: Role | str


class ChangeMemberRole:
    """Changes a member's role; their tokens above the new role come down to it."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: MemberRoleChange) -> MemberChange:
        """Change it; demoting the last owner is a :class:`Conflict`."""
        role = parse_role(command.role)
        async with self._ports.uow(command.tenant_id) as uow:
            member, owners = await _locked_member(uow, command.user_id)
            _may_grant(command.granted_by, member.role)
            _may_grant(command.granted_by, role)
            if member.role is Role.OWNER and role is not Role.OWNER and owners == 1:
                raise Conflict("the last owner cannot be demoted")
            lowered: list[ApiToken] = []
            if role != member.role:
                await uow.identity.add_membership(Membership(command.tenant_id, command.user_id, role))
                for token in await uow.identity.list_tokens(command.user_id):
                    if token.active and not role.covers(token.role):
                        lowered.append(replace(token, role=role))
                        await uow.identity.update_token(lowered[-1])
                await uow.commit()
        return MemberChange(Member(member.user, role), tuple(lowered))


@dataclass(frozen=True, slots=True)
class MemberRemoval:
    """Who to remove; ``granted_by`` is the asking token's role."""

    tenant_id: UUID
    user_id: UUID
    granted_by: Role | str


class RemoveMember:
    """Removes a member and revokes every token they hold, in one unit of work."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: MemberRemoval) -> MemberChange:
        """Remove them; removing the last owner is a :class:`Conflict`."""
        async with self._ports.uow(command.tenant_id) as uow:
            member, owners = await _locked_member(uow, command.user_id)
            _may_grant(command.granted_by, member.role)
            if member.role is Role.OWNER and owners == 1:
                raise Conflict("the last owner cannot be removed")
            now = self._ports.clock.now()
            revoked: list[ApiToken] = []
            for token in await uow.identity.list_tokens(command.user_id):
                if token.active:
                    revoked.append(replace(token, revoked_at=now))
                    await uow.identity.update_token(revoked[-1])
            await uow.identity.remove_membership(command.user_id)
            await uow.commit()
        return MemberChange(member, tuple(revoked))
