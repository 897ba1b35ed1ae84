"""The data of the in-memory adapters: one immutable-entity snapshot per tenant."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from valorize_adapters.memory.writes import MarkingDict, MarkingSet, WriteMark
from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.categories import Category
from valorize_core.model.events import DomainEvent
from valorize_core.model.forecast import BalanceAlert
from valorize_core.model.identity import ApiToken, Membership, Tenant, User
from valorize_core.model.jobs import Job
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rates import Rate
from valorize_core.model.rule_suggestions import RuleSuggestion
from valorize_core.model.rules import Rule
from valorize_core.model.schedules import Schedule, ScheduleOccurrence
from valorize_core.model.statements.imports import StatementImport
from valorize_core.model.subscriptions import TrackedSubscription
from valorize_core.model.transactions import Transaction
from valorize_core.model.webhooks import WebhookDelivery, WebhookEndpoint
from valorize_core.ports.idempotency import ClaimRetaken

__all__ = ["IdempotencyEntry", "MemoryStore", "TenantData"]


@dataclass
class TenantData:
    """One tenant's rows. Entities are frozen, so a shallow copy of the maps is a snapshot."""

    tenant: Tenant | None = None
    accounts: dict[UUID, Account] = field(default_factory=dict)
    categories: dict[UUID, Category] = field(default_factory=dict)
    transactions: dict[UUID, Transaction] = field(default_factory=dict)
    budgets: dict[UUID, Budget] = field(default_factory=dict)
    announced: set[tuple[UUID, date, int]] = field(default_factory=set)
    rules: dict[UUID, Rule] = field(default_factory=dict)
    imports: dict[UUID, StatementImport] = field(default_factory=dict)
    payees: dict[str, PayeeMemoryEntry] = field(default_factory=dict)
    payee_words: dict[str, tuple[tuple[UUID, float], ...]] = field(default_factory=dict)
    users: dict[UUID, User] = field(default_factory=dict)
    memberships: dict[UUID, Membership] = field(default_factory=dict)
    tokens: dict[UUID, ApiToken] = field(default_factory=dict)
    examples: dict[UUID, tuple[tuple[tuple[int, float], ...], UUID, str]] = field(default_factory=dict)
    # Which state of ``examples`` this is: changed by every write, so a search index built for
    # one state is reused by every unit of work that reads that state (MemoryStore.postings).
    examples_version: int = 0
    # (account, "external_id" | "fingerprint", value) -> transaction: the dedup keys, so a new
    # row is checked against the account's rows in O(1), not by scanning every row.
    transaction_keys: dict[tuple[UUID, str, str], UUID] = field(default_factory=dict)
    processed: dict[UUID, str] = field(default_factory=dict)
    sources: dict[UUID, tuple[str, bytes, dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[UUID, Job] = field(default_factory=dict)
    rule_suggestions: dict[UUID, RuleSuggestion] = field(default_factory=dict)
    notifications: dict[UUID, Notification] = field(default_factory=dict)
    rates: dict[tuple[str, str, date], Rate] = field(default_factory=dict)
    reporting_currency: str | None = None
    # global default rates written by this unit, moved to ``MemoryStore.shared_rates`` on commit
    shared_rates_staged: dict[tuple[str, str, date], Rate] = field(default_factory=dict)
    schedules: dict[UUID, Schedule] = field(default_factory=dict)
    occurrences: dict[tuple[UUID, date], ScheduleOccurrence] = field(default_factory=dict)
    subscriptions: dict[UUID, TrackedSubscription] = field(default_factory=dict)
    balance_alerts: dict[UUID, BalanceAlert] = field(default_factory=dict)
    balance_announced: set[tuple[UUID, date, int]] = field(default_factory=set)
    webhook_endpoints: dict[UUID, WebhookEndpoint] = field(default_factory=dict)
    webhook_deliveries: dict[UUID, WebhookDelivery] = field(default_factory=dict)

    def snapshot(self) -> TenantData:
        """A copy whose maps can change without touching this one, and that notes whether it was
        written (:attr:`wrote`): any call changing one of its maps, any field set."""
        mark = WriteMark()
        state: dict[str, Any] = {}
        for name, value in vars(self).items():
            if isinstance(value, dict):
                value = MarkingDict(value, mark)
            elif isinstance(value, set):
                value = MarkingSet(value, mark)
            state[name] = value
        state["_mark"] = mark
        clone = object.__new__(TenantData)
        clone.__dict__.update(state)
        return clone

    @property
    def wrote(self) -> bool:
        """Whether this snapshot was written since it was taken: O(1), whatever its size (a
        write of a unit of work, which marks its request's Idempotency-Key applied)."""
        mark: WriteMark | None = self.__dict__.get("_mark")
        return mark is not None and mark.wrote

    def __setattr__(self, name: str, value: object) -> None:
        mark: WriteMark | None = self.__dict__.get("_mark")
        if mark is not None:  # a snapshot's field set (a map replaced, the tenant, a setting)
            mark.wrote = True
        object.__setattr__(self, name, value)


@dataclass
class IdempotencyEntry:
    """An Idempotency-Key: in progress (``applied`` false, no ``status``), applied (marked by a
    unit's commit), or completed (its answer's ``status`` and ``body`` stored). ``claimed_at``
    names the claim (the request that holds the key)."""

    request_hash: str
    claimed_at: datetime
    expires_at: datetime
    locked_until: datetime
    applied: bool = False
    status: int | None = None
    body: bytes = b""


class MemoryStore:
    """All tenants, the outbox of committed events, per-tenant write locks and the
    Idempotency-Keys (which a unit's commit marks applied, as on PostgreSQL)."""

    def __init__(self, dimensions: int = 256) -> None:
        self.dimensions = dimensions
        self.tenants: dict[UUID, TenantData] = {}
        self.outbox: list[DomainEvent] = []
        self.published: set[UUID] = set()
        self.shared_rates: dict[tuple[str, str, date], Rate] = {}  # the global default rates
        # Per tenant: the search index of its examples and the ``examples_version`` it is of
        # (owned by :mod:`valorize_adapters.memory.vector_index`).
        self.postings: dict[UUID, tuple[int, object]] = {}
        self.idempotency_keys: dict[tuple[UUID, str], IdempotencyEntry] = {}
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[UUID, asyncio.Lock]] = (
            weakref.WeakKeyDictionary()
        )

    def data(self, tenant_id: UUID) -> TenantData:
        """The committed data of a tenant (empty if it has none yet)."""
        return self.tenants.get(tenant_id) or TenantData()

    def lock(self, tenant_id: UUID) -> asyncio.Lock:
        """The tenant's lock for the running event loop (units of work run one at a time)."""
        per_loop = self._locks.setdefault(asyncio.get_running_loop(), {})
        found = per_loop.get(tenant_id)
        if found is None:
            found = per_loop[tenant_id] = asyncio.Lock()
        return found

    def mark_applied(self, tenant_id: UUID, key: str, claimed_at: datetime) -> None:
        """A write of the request holding ``key`` by its claim taken at ``claimed_at``, about to
        be swapped in: the claim is applied (if not completed). :class:`ClaimRetaken` when that
        claim is gone (released, expired, retaken): the write must not land."""
        entry = self.idempotency_keys.get((tenant_id, key))
        if entry is None or entry.claimed_at != claimed_at:
            raise ClaimRetaken()
        if entry.status is None:
            entry.applied = True

    def users_by_email(self) -> dict[str, User]:
        """Every committed user, by e-mail."""
        return {u.email: u for data in self.tenants.values() for u in data.users.values()}

    def tokens_by_hash(self) -> dict[str, ApiToken]:
        """Every committed token, by hash."""
        return {t.token_hash: t for data in self.tenants.values() for t in data.tokens.values()}
