"""Tenants, users, memberships and API tokens.

A tenant (a household or a small business) is the unit of isolation: every other entity
carries its ``tenant_id`` and nothing crosses tenants. API tokens are random secrets shown
once; only their SHA-256 hash is ever stored.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.text import clean_name

__all__ = [
    "TOKEN_PREFIX",
    "ApiToken",
    "Member",
    "Membership",
    "Role",
    "Tenant",
    "User",
    "generate_token_secret",
    "hash_token",
    "normalize_email",
    "parse_role",
]

TOKEN_PREFIX = "vz_"
# No whitespace and no control characters (PostgreSQL text cannot even hold NUL).
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s\x00-\x1f\x7f-\x9f]+")


class Role(enum.StrEnum):
    """What a member may do in a tenant."""

    OWNER = "owner"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def can_write(self) -> bool:
        """Viewers are read-only."""
        return self is not Role.VIEWER

    @property
    def can_manage_members(self) -> bool:
        """Only owners manage tokens of others and memberships."""
        return self is Role.OWNER

    @property
    def rank(self) -> int:
        """Viewer 0 < member 1 < owner 2."""
        return _RANK[self]

    def covers(self, other: Role | str) -> bool:
        """Whether this role may do everything ``other`` may (owner ⊇ member ⊇ viewer)."""
        return self.rank >= Role(other).rank

    def capped_at(self, ceiling: Role | str) -> Role:
        """This role, lowered to ``ceiling`` when it is above it."""
        return self if Role(ceiling).covers(self) else Role(ceiling)


_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.OWNER: 2}


def parse_role(value: Role | str) -> Role:
    """A role from its name, or a validation error on ``role``."""
    try:
        return Role(value)
    except ValueError:
        raise ValidationError.for_field("role", "must be owner, member or viewer") from None


@dataclass(frozen=True, slots=True)
class Tenant:
    """A household or small business; the isolation unit."""

    id: UUID
    name: str
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name, "name"))


def normalize_email(email: object) -> str:
    """A trimmed, lower-cased e-mail address, or a validation error."""
    if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()) or len(email) > 320:
        raise ValidationError.for_field("email", "must be an e-mail address")
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class User:
    """A person who can sign in to one or more tenants."""

    id: UUID
    email: str
    name: str
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", normalize_email(self.email))
        object.__setattr__(self, "name", clean_name(self.name, "name"))


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's role in a tenant."""

    tenant_id: UUID
    user_id: UUID
    role: Role

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", parse_role(self.role))


@dataclass(frozen=True, slots=True)
class Member:
    """A person in a tenant: their user and their role there."""

    user: User
    role: Role


def generate_token_secret() -> str:
    """A new random bearer token (256 bits of entropy), shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A bearer token of a user in a tenant. Only ``token_hash`` is kept, never the secret."""

    id: UUID
    tenant_id: UUID
    user_id: UUID
    name: str
    token_hash: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None
    last_four: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name, "name"))
        if not re.fullmatch(r"[0-9a-f]{64}", self.token_hash):
            raise ValidationError.for_field("token_hash", "must be a SHA-256 hex digest")
        object.__setattr__(self, "role", parse_role(self.role))

    @property
    def active(self) -> bool:
        """A revoked token authenticates nobody."""
        return self.revoked_at is None

    def matches(self, secret: str) -> bool:
        """Constant-time check of a presented secret against the stored hash."""
        return hmac.compare_digest(self.token_hash, hash_token(secret))
