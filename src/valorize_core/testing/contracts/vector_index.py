"""Contract of the vector index: nearest first, per tenant, always k rows when k exist."""

from __future__ import annotations

import math
import random

import pytest

from valorize_core.context import Ports
from valorize_core.errors import ValidationError
from valorize_core.testing.contracts.base import PortsContract

__all__ = ["VectorIndexContract"]


def _unit(values: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class VectorIndexContract(PortsContract):
    def _dims(self, ports: Ports) -> int:
        assert ports.embedder is not None
        assert ports.vector_index is not None
        return ports.embedder.dimensions

    def _random(self, rng: random.Random, dims: int) -> list[float]:
        return _unit([rng.gauss(0, 1) for _ in range(dims)])

    def test_nearest_first_with_exact_similarities(self, ports: Ports) -> None:
        dims = self._dims(ports)
        index = ports.vector_index
        assert index is not None
        t = self.new_tenant(ports)
        food, home = self.new_id(), self.new_id()
        base = [1.0] + [0.0] * (dims - 1)
        near = _unit([1.0, 0.1] + [0.0] * (dims - 2))
        far = _unit([0.0, 1.0] + [0.0] * (dims - 2))
        a, b = self.new_id(), self.new_id()
        self.run(index.upsert(t, a, near, food, "near"))
        self.run(index.upsert(t, b, far, home, "far"))
        found = self.run(index.nearest(t, base, 5))
        assert [n.item_id for n in found] == [a, b]
        assert found[0].category_id == food
        assert found[0].text == "near"
        assert found[0].similarity == pytest.approx(near[0], abs=1e-5)
        assert found[1].similarity == pytest.approx(0.0, abs=1e-5)
        self.run(index.upsert(t, b, near, food, "moved"))  # upsert replaces
        assert {n.text for n in self.run(index.nearest(t, base, 5))} == {"near", "moved"}
        self.run(index.remove(t, a))
        assert [n.item_id for n in self.run(index.nearest(t, base, 5))] == [b]

    def test_k_rows_per_tenant_even_when_other_tenants_crowd_the_space(self, ports: Ports) -> None:
        dims = self._dims(ports)
        index = ports.vector_index
        assert index is not None
        rng = random.Random(7)
        mine, crowd = self.new_tenant(ports), self.new_tenant(ports)
        label = self.new_id()
        query = self._random(rng, dims)
        # The crowd sits right next to the query; my examples are scattered far away.
        for _ in range(300):
            jitter = _unit([q + rng.gauss(0, 0.01) for q in query])
            self.run(index.upsert(crowd, self.new_id(), jitter, label, "crowd"))
        my_items = set()
        for _ in range(12):
            item = self.new_id()
            my_items.add(item)
            self.run(index.upsert(mine, item, self._random(rng, dims), label, "mine"))
        found = self.run(index.nearest(mine, query, 10))
        assert len(found) == 10
        assert {n.item_id for n in found} <= my_items
        sims = [n.similarity for n in found]
        assert sims == sorted(sims, reverse=True)

    def test_wrong_dimensions_are_refused(self, ports: Ports) -> None:
        index = ports.vector_index
        assert index is not None
        t = self.new_tenant(ports)
        with pytest.raises(ValidationError):
            self.run(index.upsert(t, self.new_id(), [1.0, 0.0], self.new_id(), "x"))
        with pytest.raises(ValidationError):
            self.run(index.nearest(t, [1.0], 3))
