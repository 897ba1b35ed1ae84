"""Contract of the labeled-example index: nearest first, per tenant, k rows when k exist."""

from __future__ import annotations

import math
import random
from uuid import UUID

import pytest

from valorize_core.model.errors import ValidationError
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.ports.vector_index import Neighbour
from valorize_core.testing.contracts.base import PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["VectorIndexContract"]


def _unit(values: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class VectorIndexContract(PortsContract):
    def _dims(self, ports: Ports) -> int:
        return self.read(ports, self.new_tenant(ports), _dimensions)

    def _random(self, rng: random.Random, dims: int) -> list[float]:
        return _unit([rng.gauss(0, 1) for _ in range(dims)])

    def _upsert(self, ports: Ports, tenant: UUID, item: UUID, vector: list[float], category: UUID, text: str) -> None:
        async def step(uow: UnitOfWork) -> None:
            await uow.examples.upsert(item, vector, category, text)

        self.write(ports, tenant, step)

    def _nearest(self, ports: Ports, tenant: UUID, vector: list[float], k: int) -> list[Neighbour]:
        async def step(uow: UnitOfWork) -> list[Neighbour]:
            return await uow.examples.nearest(vector, k)

        return self.read(ports, tenant, step)

    def test_nearest_first_with_exact_similarities(self, ports: Ports) -> None:
        dims = self._dims(ports)
        t = self.new_tenant(ports)
        food, home = self.new_id(), self.new_id()
        base = [1.0] + [0.0] * (dims - 1)
        near = _unit([1.0, 0.1] + [0.0] * (dims - 2))
        far = _unit([0.0, 1.0] + [0.0] * (dims - 2))
        a, b = self.new_id(), self.new_id()
        self._upsert(ports, t, a, near, food, "near")
        self._upsert(ports, t, b, far, home, "far")
        found = self._nearest(ports, t, base, 5)
        assert [n.item_id for n in found] == [a, b]
        assert found[0].category_id == food
        assert found[0].text == "near"
        assert found[0].similarity == pytest.approx(near[0], abs=1e-5)
        assert found[1].similarity == pytest.approx(0.0, abs=1e-5)
        self._upsert(ports, t, b, near, food, "moved")  # upsert replaces
        assert {n.text for n in self._nearest(ports, t, base, 5)} == {"near", "moved"}
        self.write(ports, t, lambda uow: uow.examples.remove(a))
        assert [n.item_id for n in self._nearest(ports, t, base, 5)] == [b]

    def test_nearest_many_answers_as_nearest_does_and_a_write_is_seen(self, ports: Ports) -> None:
        dims = self._dims(ports)
        rng = random.Random(11)
        t = self.new_tenant(ports)
        labels = [self.new_id(), self.new_id()]
        for i in range(12):
            self._upsert(ports, t, self.new_id(), self._random(rng, dims), labels[i % 2], f"e{i}")
        queries = [self._random(rng, dims) for _ in range(4)]
        queries.append(queries[0])  # the same vector twice
        one_by_one = [self._nearest(ports, t, q, 5) for q in queries]
        added = self.new_id()

        async def batch(uow: UnitOfWork) -> tuple[list[list[Neighbour]], list[Neighbour], list[Neighbour]]:
            many = await uow.examples.nearest_many(queries, 5)
            again = await uow.examples.nearest(queries[1], 3)  # fewer than asked: answered too
            await uow.examples.upsert(added, queries[1], labels[0], "added")
            return many, again, await uow.examples.nearest(queries[1], 3)

        many, again, after_write = self.read(ports, t, batch)
        assert [[n.item_id for n in found] for found in many] == [[n.item_id for n in f] for f in one_by_one]
        for found, single in zip(many, one_by_one, strict=True):
            assert [n.similarity for n in found] == pytest.approx([n.similarity for n in single], abs=1e-5)
        assert [n.item_id for n in again] == [n.item_id for n in one_by_one[1][:3]]
        assert after_write[0].item_id == added  # a write in the unit is not hidden by what it kept
        assert self.read(ports, t, lambda uow: uow.examples.nearest_many([], 5)) == []
        pair = [(self.new_id(), queries[2], labels[1], "p1"), (self.new_id(), queries[3], labels[1], "p2")]
        self.write(ports, t, lambda uow: uow.examples.upsert_many(pair))
        assert self._nearest(ports, t, queries[2], 1)[0].text == "p1"
        assert self._nearest(ports, t, queries[3], 1)[0].text == "p2"

    def test_examples_roll_back_with_their_unit(self, ports: Ports) -> None:
        dims = self._dims(ports)
        t = self.new_tenant(ports)

        async def abandoned(uow: UnitOfWork) -> None:
            await uow.examples.upsert(self.new_id(), [1.0] + [0.0] * (dims - 1), self.new_id(), "x")

        self.read(ports, t, abandoned)  # never committed
        assert self._nearest(ports, t, [1.0] + [0.0] * (dims - 1), 3) == []

    def test_k_rows_per_tenant_even_when_other_tenants_crowd_the_space(self, ports: Ports) -> None:
        dims = self._dims(ports)
        rng = random.Random(7)
        mine, crowd = self.new_tenant(ports), self.new_tenant(ports)
        label = self.new_id()
        query = self._random(rng, dims)
        # The crowd sits right next to the query; my examples are scattered far away.
        crowd_vectors = [_unit([q + rng.gauss(0, 0.01) for q in query]) for _ in range(300)]

        async def add_crowd(uow: UnitOfWork) -> None:
            for vector in crowd_vectors:
                await uow.examples.upsert(self.new_id(), vector, label, "crowd")

        self.write(ports, crowd, add_crowd)
        my_items = {self.new_id() for _ in range(12)}
        for item in my_items:
            self._upsert(ports, mine, item, self._random(rng, dims), label, "mine")
        found = self._nearest(ports, mine, query, 10)
        assert len(found) == 10
        assert {n.item_id for n in found} <= my_items
        sims = [n.similarity for n in found]
        assert sims == sorted(sims, reverse=True)

    def test_wrong_dimensions_are_refused(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        with pytest.raises(ValidationError):
            self._upsert(ports, t, self.new_id(), [1.0, 0.0], self.new_id(), "x")
        with pytest.raises(ValidationError):
            self._nearest(ports, t, [1.0], 3)


async def _dimensions(uow: UnitOfWork) -> int:
    return uow.examples.dimensions
