"""Rebuilding entities from storage without validating them again.

Entities validate in ``__post_init__`` when they are made from input. Rows read back from the
database were valid when written — the schema's constraints guard them too — so repositories
rebuild them with :func:`restore`, which sets the fields directly. On a page of 50 transactions
with splits that skips thousands of text and invariant checks per request.

For the hottest rows (a page of transactions, their splits and amounts), :func:`restorer` makes
a constructor taking every field positionally, compiled once per class the way ``dataclasses``
compiles ``__init__``: half the cost of the keyword form on a page (9.1 → 4.2 µs per
transaction with its split, categorization and amounts, perf/README.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["restore", "restorer"]

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


def restorer(cls: type[T]) -> Callable[..., T]:
    """A function taking every field of the dataclass ``cls`` positionally, in declaration order
    (defaults included), that returns an instance with them set as they are."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if not all(name.isidentifier() and not name.startswith("_") for name in names):
        raise TypeError(f"{cls.__name__} has fields a restorer cannot name")
    body = "".join(f"    set_(self, {name!r}, {name})\n" for name in names)
    source = f"def restore_{cls.__name__}({', '.join(names)}):\n    self = new(cls)\n{body}    return self\n"
    scope: dict[str, Any] = {"new": object.__new__, "set_": object.__setattr__, "cls": cls}
    exec(source, scope)  # the names are the class's own field names, checked above
    made: Callable[..., T] = scope[f"restore_{cls.__name__}"]
    return made
