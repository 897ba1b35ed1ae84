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

from valorize_core.errors import ValidationError
from valorize_core.text import clean_name

__all__ = [
    "TOKEN_PREFIX",
    "ApiToken",
    "Membership",
    "Role",
    "Tenant",
    "User",
    "generate_token_secret",
    "hash_token",
    "normalize_email",
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
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            raise ValidationError.for_field("role", "must be owner, member or viewer") from None


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
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            raise ValidationError.for_field("role", "must be owner, member or viewer") from None

    @property
    def active(self) -> bool:
        """A revoked token authenticates nobody."""
        return self.revoked_at is None

    def matches(self, secret: str) -> bool:
        """Constant-time check of a presented secret against the stored hash."""
        return hmac.compare_digest(self.token_hash, hash_token(secret))
