"""Rebuilding entities from storage without validating them again.

Entities validate in ``__post_init__`` when they are made from input. Rows read back from the
database were valid when written — the schema's constraints guard them too — so repositories
rebuild them with :func:`restore`, which sets the fields directly. On a page of 50 transactions
with splits that skips thousands of text and invariant checks per request.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["restore"]

T = TypeVar("T")

_FIELDS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = tuple((f.name, f.default, f.default_factory) for f in dataclasses.fields(cls) if f.init)
        _FIELDS[cls] = found
    return found


def restore(cls: type[T], /, **values: Any) -> T:
    """An instance of the dataclass ``cls`` with ``values`` set as they are (defaults for the rest)."""
    instance = object.__new__(cls)
    for name, default, factory in _fields(cls):
        if name in values:
            value = values[name]
        elif default is not dataclasses.MISSING:
            value = default
        elif factory is not dataclasses.MISSING:
            value = factory()
        else:
            raise TypeError(f"{cls.__name__} needs {name}")
        object.__setattr__(instance, name, value)
    return instance
