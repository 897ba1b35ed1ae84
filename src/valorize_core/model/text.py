"""Small text rules shared by the entities: names, tags, free text."""

from __future__ import annotations

import enum
import re
import unicodedata
from typing import TypeVar

from valorize_core.model.errors import ValidationError

__all__ = [
    "MAX_NAME",
    "MAX_TEXT",
    "check_text",
    "clean_external_id",
    "clean_name",
    "clean_tag",
    "clean_text",
    "parse_choice",
]

E = TypeVar("E", bound=enum.StrEnum)

MAX_NAME = 200
MAX_TEXT = 1000
_TAG = re.compile(r"[\w\-:./]+")


def _check_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError.for_field(field, "must be text")
    # isprintable (in C) is false for every control character: only text it refuses is looked at
    if not value.isprintable() and any(unicodedata.category(ch) == "Cc" and ch not in "\t" for ch in value):
        raise ValidationError.for_field(field, "must not contain control characters")
    return value


def check_text(value: object, field: str) -> str:
    """``value`` unchanged, if it is text without control characters (tab is allowed)."""
    return _check_str(value, field)


def clean_name(value: object, field: str, max_length: int = MAX_NAME) -> str:
    """A trimmed, non-empty single-line name of at most ``max_length`` characters."""
    text = " ".join(_check_str(value, field).split())
    if not text:
        raise ValidationError.for_field(field, "must not be empty")
    if len(text) > max_length:
        raise ValidationError.for_field(field, f"must be at most {max_length} characters")
    return text


def clean_text(value: object, field: str, max_length: int = MAX_TEXT) -> str:
    """Trimmed free text (may be empty) of at most ``max_length`` characters."""
    text = " ".join(_check_str(value, field).split())
    if len(text) > max_length:
        raise ValidationError.for_field(field, f"must be at most {max_length} characters")
    return text


def clean_external_id(value: object) -> str | None:
    """A bank's id for a transaction as it is stored and compared: trimmed, inner runs of
    whitespace as one space, at most 255 characters; ``None`` when blank. A statement's row and
    the transaction it becomes spell it alike, so an import finds the ids it stored."""
    return clean_text(value, "external_id", 255) or None


def clean_tag(value: object, field: str = "tags") -> str:
    """A tag: lower-case, 1–50 word characters and ``-:./``."""
    text = _check_str(value, field).strip().lower()
    if not text or len(text) > 50 or not _TAG.fullmatch(text):
        raise ValidationError.for_field(field, f"{value!r} is not a valid tag")
    return text


def parse_choice(kind: type[E], value: object, field: str) -> E:
    """A member of a string enum, or a validation error listing the valid values."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    raise ValidationError.for_field(field, f"must be one of {', '.join(m.value for m in kind)}")
