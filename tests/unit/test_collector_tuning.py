"""The startup function every serving role calls (collector.py) and its setting."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from valorize_entrypoints.collector import PASSES, tune_collector
from valorize_entrypoints.settings import Settings


@pytest.fixture
def python_collector() -> Iterator[None]:
    """Python's collector before and after (the test process is not a role)."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *before[1:])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.usefixtures("python_collector")
def test_a_threshold_freezes_startup_and_raises_generation_0_only() -> None:
    _, older, oldest = gc.get_threshold()
    full = PASSES.counts[2]
    tune_collector(4321)
    assert gc.get_threshold() == (4321, older, oldest)
    assert gc.get_freeze_count() > 10_000  # the modules imported so far
    assert PASSES.counts[2] > full  # the full pass before the freeze was counted
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # cycles made afterwards are still collected


@pytest.mark.usefixtures("python_collector")
def test_zero_leaves_pythons_collector_as_it_is() -> None:
    tune_collector(0)
    assert gc.get_threshold()[0] == 700
    assert gc.get_freeze_count() == 0


def test_the_setting_defaults_to_the_measured_threshold_and_rejects_negatives() -> None:
    assert Settings.from_env({}).gc_threshold == 10_000
    assert Settings.from_env({"VALORIZE_GC_THRESHOLD": "0"}).gc_threshold == 0
    with pytest.raises(ValueError, match="VALORIZE_GC_THRESHOLD"):
        Settings.from_env({"VALORIZE_GC_THRESHOLD": "-1"})
