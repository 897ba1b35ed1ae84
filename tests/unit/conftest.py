"""Fixtures for use-case tests (the helpers live in world.py)."""

from __future__ import annotations

import pytest
from world import World, run

from valorize_adapters.memory import InMemoryBackend, ManualClock
from valorize_core import NewAccount, NewCategory, SignupRequest


@pytest.fixture
def world() -> World:
    return make_world()


def make_world() -> World:
    """A fresh in-memory world (property tests need one per example)."""
    clock = ManualClock()
    backend = InMemoryBackend(clock=clock)
    vz = backend.app
    signup = run(vz.signup(SignupRequest("Casa", "ana@example.com", "Ana")))
    t = signup.tenant.id
    checking = run(vz.create_account(NewAccount(t, "Checking", "checking", "BRL", "1000.00"))).id
    savings = run(vz.create_account(NewAccount(t, "Savings", "savings", "BRL", "5000.00"))).id
    card = run(vz.create_account(NewAccount(t, "Card", "credit_card", "USD", "0"))).id
    food = run(vz.create_category(NewCategory(t, "Food", "expense"))).id
    groceries = run(vz.create_category(NewCategory(t, "Groceries", "expense", food))).id
    home = run(vz.create_category(NewCategory(t, "Home", "expense"))).id
    salary = run(vz.create_category(NewCategory(t, "Salary", "income"))).id
    return World(backend, vz, clock, t, signup.user.id, checking, savings, card, food, groceries, home, salary)
