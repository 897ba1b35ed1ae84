"""Fixtures for use-case tests (the helpers live in world.py)."""

from __future__ import annotations

import pytest
from world import World, make_world


@pytest.fixture
def world() -> World:
    return make_world()
