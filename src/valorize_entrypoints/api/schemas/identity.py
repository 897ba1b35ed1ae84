"""Signup, API tokens and members (an owner's people: their user, role and first token)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from msgspec import Struct

from valorize_core.model.identity import ApiToken, Member
from valorize_entrypoints.api.schemas.common import Email, Name

__all__ = [
    "MeOut",
    "MemberIn",
    "MemberInvited",
    "MemberOut",
    "MemberPatch",
    "RoleName",
    "SignupIn",
    "SignupOut",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
    "member",
    "token",
]


class SignupIn(Struct, forbid_unknown_fields=True):
    tenant_name: Name
    email: Email
    name: Name


class SignupOut(Struct):
    tenant_id: UUID
    user_id: UUID
    token_id: UUID
    token: str


class MeOut(Struct):
    """The calling token: its tenant (``private-tenant.{tenant_id}`` is its live channel), its
    user and role."""

    tenant_id: UUID
    user_id: UUID
    token_id: UUID
    role: str
    name: str
    email: str


class TokenIn(Struct, forbid_unknown_fields=True):
    name: Name
    role: Literal["owner", "member", "viewer"] | None = None
    user_id: UUID | None = None  # another member's (owners); default: the caller's own


class TokenOut(Struct):
    id: UUID
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_four: str
    user_id: UUID  # whose token it is (owners see every member's)


class TokenCreated(Struct):
    token: str
    details: TokenOut


def token(t: ApiToken) -> TokenOut:
    return TokenOut(t.id, t.name, t.role.value, t.created_at, t.revoked_at, t.last_four, t.user_id)


RoleName = Literal["owner", "member", "viewer"]


class MemberIn(Struct, forbid_unknown_fields=True):
    email: Email
    name: Name
    role: RoleName


class MemberPatch(Struct, forbid_unknown_fields=True):
    role: RoleName


class MemberOut(Struct):
    user_id: UUID
    email: str
    name: str
    role: str


class MemberInvited(Struct):
    member: MemberOut
    token: str
    token_details: TokenOut


def member(m: Member) -> MemberOut:
    return MemberOut(m.user.id, m.user.email, m.user.name, m.role.value)
