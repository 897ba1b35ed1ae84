"""Whether a unit of work wrote: the maps of its staged snapshot note every change they take.

A memory unit stages its tenant's data as a copy of each map (:meth:`TenantData.snapshot`). The
copies are :class:`MarkingDict` and :class:`MarkingSet`: every mutating method sets the
snapshot's :class:`WriteMark` before it runs, whether or not it changes anything (as the
PostgreSQL session counts every statement but a ``SELECT`` as a write). Knowing whether the unit
wrote then costs nothing at commit, however large the tenant (comparing the staged maps with
the committed ones cost a pass over all of them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self, TypeVar

__all__ = ["MarkingDict", "MarkingSet", "WriteMark"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_T = TypeVar("_T")


class WriteMark:
    """Set once anything of one snapshot was written."""

    __slots__ = ("wrote",)

    def __init__(self) -> None:
        self.wrote = False


class MarkingDict(dict[_K, _V]):
    """A dict that sets ``mark`` on every mutating call. Copied or pickled, it is a plain dict.
    (Its in-place operators take what the dict's take: typeshed's ``__or__`` returns a wider
    type than an in-place operator may, hence the ignores.)"""

    __slots__ = ("_mark",)

    def __init__(self, items: Mapping[_K, _V], mark: WriteMark) -> None:
        super().__init__(items)
        self._mark = mark

    def __setitem__(self, key: _K, value: _V) -> None:
        self._mark.wrote = True
        super().__setitem__(key, value)

    def __delitem__(self, key: _K) -> None:
        self._mark.wrote = True
        super().__delitem__(key)

    def __ior__(self, other: Any) -> Self:  # type: ignore[override,misc]
        self._mark.wrote = True
        return super().__ior__(other)

    def pop(self, key: _K, *default: Any) -> Any:
        self._mark.wrote = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[_K, _V]:
        self._mark.wrote = True
        return super().popitem()

    def setdefault(self, key: _K, default: Any = None) -> Any:
        self._mark.wrote = True
        return super().setdefault(key, default)

    def update(self, *others: Any, **more: _V) -> None:
        self._mark.wrote = True
        super().update(*others, **more)

    def clear(self) -> None:
        self._mark.wrote = True
        super().clear()

    def copy(self) -> dict[_K, _V]:
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self),)


class MarkingSet(set[_T]):
    """A set that sets ``mark`` on every mutating call. Copied or pickled, it is a plain set."""

    __slots__ = ("_mark",)

    def __init__(self, items: Iterable[_T], mark: WriteMark) -> None:
        super().__init__(items)
        self._mark = mark

    def add(self, item: _T) -> None:
        self._mark.wrote = True
        super().add(item)

    def discard(self, item: object) -> None:
        self._mark.wrote = True
        super().discard(item)

    def remove(self, item: _T) -> None:
        self._mark.wrote = True
        super().remove(item)

    def pop(self) -> _T:
        self._mark.wrote = True
        return super().pop()

    def clear(self) -> None:
        self._mark.wrote = True
        super().clear()

    def update(self, *others: Iterable[_T]) -> None:
        self._mark.wrote = True
        super().update(*others)

    def difference_update(self, *others: Iterable[Any]) -> None:
        self._mark.wrote = True
        super().difference_update(*others)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        self._mark.wrote = True
        super().intersection_update(*others)

    def symmetric_difference_update(self, other: Iterable[_T]) -> None:
        self._mark.wrote = True
        super().symmetric_difference_update(other)

    def __ior__(self, other: Any) -> Self:  # type: ignore[override,misc]
        self._mark.wrote = True
        return super().__ior__(other)

    def __iand__(self, other: Any) -> Self:  # type: ignore[misc]
        self._mark.wrote = True
        return super().__iand__(other)

    def __isub__(self, other: Any) -> Self:  # type: ignore[misc]
        self._mark.wrote = True
        return super().__isub__(other)

    def __ixor__(self, other: Any) -> Self:  # type: ignore[override,misc]
        self._mark.wrote = True
        return super().__ixor__(other)

    def copy(self) -> set[_T]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return set, (set(self),)
