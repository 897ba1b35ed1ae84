"""The memory unit's staged maps note their own writes (valorize_adapters.memory.writes): every
mutating method marks, no read does, and a snapshot's field set marks."""

from __future__ import annotations

import copy
import pickle
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from valorize_adapters.memory.store import TenantData
from valorize_adapters.memory.writes import MarkingDict, MarkingSet, WriteMark

DICT_WRITES: dict[str, Callable[[dict[str, int]], object]] = {
    "__setitem__": lambda d: d.__setitem__("a", 9),
    "__delitem__": lambda d: d.__delitem__("a"),
    "__ior__": lambda d: d.__ior__({"c": 3}),
    "pop": lambda d: d.pop("missing", None),  # a write that changes nothing still ran
    "popitem": lambda d: d.popitem(),
    "setdefault": lambda d: d.setdefault("a", 0),
    "update": lambda d: d.update(c=3),
    "clear": lambda d: d.clear(),
}
SET_WRITES: dict[str, Callable[[set[int]], object]] = {
    "add": lambda s: s.add(1),
    "discard": lambda s: s.discard(7),
    "remove": lambda s: s.remove(1),
    "pop": lambda s: s.pop(),
    "clear": lambda s: s.clear(),
    "update": lambda s: s.update({3}),
    "difference_update": lambda s: s.difference_update({1}),
    "intersection_update": lambda s: s.intersection_update({1}),
    "symmetric_difference_update": lambda s: s.symmetric_difference_update({1}),
    "__ior__": lambda s: s.__ior__({3}),
    "__iand__": lambda s: s.__iand__({1}),
    "__isub__": lambda s: s.__isub__({1}),
    "__ixor__": lambda s: s.__ixor__({1}),
}


def _methods(kind: type) -> set[str]:
    return {name for name in dir(kind) if callable(getattr(kind, name))}


def test_every_method_a_dict_or_set_may_change_itself_by_is_overridden() -> None:
    # What is left of dict's and set's methods only reads (or builds a new object): a method a
    # later Python adds fails here until it is sorted into one list or the other.
    dict_reads = {"__contains__", "__getitem__", "__iter__", "__len__", "__reversed__", "get", "keys", "values"}
    dict_reads |= {"items", "copy", "fromkeys", "__or__", "__ror__", "__class_getitem__", "__sizeof__"}
    set_reads = {"__contains__", "__iter__", "__len__", "copy", "difference", "intersection", "isdisjoint"}
    set_reads |= {"issubset", "issuperset", "symmetric_difference", "union", "__and__", "__or__", "__sub__"}
    set_reads |= {"__xor__", "__rand__", "__ror__", "__rsub__", "__rxor__", "__class_getitem__", "__sizeof__"}
    plain = _methods(object) | {"__getstate__"}
    assert _methods(dict) - plain - dict_reads == set(DICT_WRITES)
    assert _methods(set) - plain - set_reads == set(SET_WRITES)
    assert all(name in vars(MarkingDict) for name in DICT_WRITES)
    assert all(name in vars(MarkingSet) for name in SET_WRITES)


@pytest.mark.parametrize("name", sorted(DICT_WRITES))
def test_each_dict_write_marks(name: str) -> None:
    mark = WriteMark()
    staged = MarkingDict({"a": 1, "b": 2}, mark)
    DICT_WRITES[name](staged)
    assert mark.wrote


@pytest.mark.parametrize("name", sorted(SET_WRITES))
def test_each_set_write_marks(name: str) -> None:
    mark = WriteMark()
    staged = MarkingSet({1, 2}, mark)
    SET_WRITES[name](staged)
    assert mark.wrote


def test_reads_and_copies_mark_nothing_and_copies_are_plain() -> None:
    mark = WriteMark()
    d, s = MarkingDict({"a": 1}, mark), MarkingSet({1}, mark)
    assert (d.get("a"), "a" in d, list(d), list(d.items()), d == {"a": 1}) == (1, True, ["a"], [("a", 1)], True)
    assert d | {"b": 2} == {"a": 1, "b": 2}
    assert (1 in s, s | {2}, s & {1}, s - {1}, s.union({3}), s.issubset({1, 2})) == (
        True, {1, 2}, {1}, set(), {1, 3}, True,
    )  # fmt: skip
    copies: list[Any] = [d.copy(), s.copy(), copy.copy(d), copy.copy(s), copy.deepcopy(d)]
    copies.append(pickle.loads(pickle.dumps(s)))
    assert [type(c) for c in copies] == [dict, set, dict, set, dict, set]
    copies[0]["b"] = 2
    assert not mark.wrote


def test_a_snapshot_notes_its_writes_and_leaves_its_source_alone() -> None:
    committed = TenantData(reporting_currency="BRL")
    committed.processed[uuid.uuid4()] = "a"  # the committed data itself marks nothing
    assert not committed.wrote
    staged = committed.snapshot()
    assert not staged.wrote
    assert staged == committed
    staged.announced.add((uuid.uuid4(), date(2026, 1, 1), 80))  # a budget's threshold announced
    assert staged.wrote
    assert not committed.announced
    again = committed.snapshot()
    again.reporting_currency = "USD"  # a field set
    assert again.wrote
    assert committed.reporting_currency == "BRL"
    assert not committed.snapshot().wrote
