"""Rows to entities and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from typing import Any
from uuid import UUID

from psycopg.rows import RowMaker, no_result
from psycopg.types.json import Jsonb

from valorize_adapters.postgres.restore import restorer
from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.categories import Category
from valorize_core.model.identity import ApiToken, Tenant, User
from valorize_core.model.jobs import Job
from valorize_core.model.listing import transaction_tokens
from valorize_core.model.money import Money, currency, decimal_string
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rates import Rate
from valorize_core.model.rule_suggestions import RuleSuggestion
from valorize_core.model.rules import ConditionGroup, Rule, action_from_data, condition_from_data
from valorize_core.model.schedules import Schedule
from valorize_core.model.statements.imports import BalanceCheck, RowError, StatementImport
from valorize_core.model.subscriptions import TrackedSubscription
from valorize_core.model.transaction_view import TransactionView
from valorize_core.model.transactions import (
    Categorization,
    CategorizationSource,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)
from valorize_core.model.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from valorize_core.ports.patterns import PatternEngine

Row = dict[str, Any]

# Members by stored value: a dict lookup instead of the Enum constructor, on every row of a page.
_STATUS = {m.value: m for m in TransactionStatus}
_SOURCE = {m.value: m for m in TransactionSource}
_CAT_SOURCE = {m.value: m for m in CategorizationSource}

# A page's rows become entities through constructors compiled once (valorize_adapters.postgres.restore).
_TRANSACTION = restorer(Transaction)
_SPLIT = restorer(Split)
_CATEGORIZATION = restorer(Categorization)
_MONEY = restorer(Money)
# A split's category id arrives as text (it is aggregated as JSON); a tenant has few categories.
_category_id = lru_cache(maxsize=4096)(UUID)


def category_id_cache_size() -> tuple[int, int]:
    """Entries in this process's category-id cache, and its bound (``/metrics``)."""
    info = _category_id.cache_info()
    return info.currsize, info.maxsize or 0


def account(r: Row) -> Account:
    cur = r["currency"]
    return Account(
        id=r["id"], tenant_id=r["tenant_id"], name=r["name"], kind=r["kind"],
        opening_balance=Money(r["opening_minor"], cur), balance=Money(r["balance_minor"], cur),
        opened_on=r["opened_on"], created_at=r["created_at"], archived=r["archived"],
    )  # fmt: skip


def category(r: Row) -> Category:
    return Category(r["id"], r["tenant_id"], r["name"], r["kind"], r["parent_id"])


# The transaction's own columns; the splits come as ``splits``, a JSON array of
# [category_id, amount_minor, memo] (a subquery per row here; a grouped join for whole tenants).
TRANSACTION_FIELDS = (
    "t.tenant_id, t.id, t.account_id, t.booked_on, t.description, t.payee, t.amount_minor, t.currency, "
    "t.status, t.source, t.tags, t.external_id, t.fingerprint, t.cat_source, t.cat_confidence, "
    "t.cat_explanation, t.cat_rule_id, t.transfer_id, t.import_id, t.created_at, t.updated_at"
)
SPLITS_JSON = "json_agg(json_build_array(s.category_id, s.amount_minor, s.memo) ORDER BY s.position)"
TRANSACTION_COLUMNS = (
    TRANSACTION_FIELDS + ", (SELECT " + SPLITS_JSON + " FROM splits s"
    " WHERE s.tenant_id = t.tenant_id AND s.transaction_id = t.id) AS splits"
)


def transaction(r: Row) -> Transaction:
    """A stored transaction, rebuilt without re-validating it (see ``valorize_adapters.postgres.restore``).

    The positional order is the dataclasses' field order; ``test_restore`` holds them together.
    """
    cur = currency(r["currency"])
    splits = tuple(
        _SPLIT(None if c is None else _category_id(c), _MONEY(int(a), cur), m or "") for c, a, m in (r["splits"] or [])
    )
    categorization = _CATEGORIZATION(
        _CAT_SOURCE[r["cat_source"]], Decimal(r["cat_confidence"]), r["cat_explanation"], r["cat_rule_id"]
    )
    return _TRANSACTION(
        r["id"], r["tenant_id"], r["account_id"], r["booked_on"], r["description"], r["payee"],
        _MONEY(r["amount_minor"], cur), splits, r["created_at"], r["updated_at"], _STATUS[r["status"]],
        _SOURCE[r["source"]], tuple(r["tags"]), r["external_id"], r["fingerprint"], categorization,
        r["transfer_id"], r["import_id"],
    )  # fmt: skip


# A view's stored values, in :class:`TransactionView`'s order (``amount_minor`` for its amount).
_VIEW_COLUMNS = (
    "id", "account_id", "booked_on", "description", "payee", "amount_minor", "currency", "splits", "tags", "status",
    "source", "external_id", "cat_source", "cat_confidence", "cat_explanation", "cat_rule_id", "transfer_id",
    "import_id", "created_at", "updated_at",
)  # fmt: skip


_EXPONENTS: dict[str, int] = {}  # a stored currency code → its exponent (at most the ISO 4217 list)


def _view(
    id: UUID, account_id: UUID, booked_on: date, description: str, payee: str, amount_minor: int, code: str,
    splits: list[list[Any]] | None, tags: list[str], status: str, source: str, external_id: str | None,
    cat_source: str, cat_confidence: Any, cat_explanation: str, cat_rule_id: UUID | None, transfer_id: UUID | None,
    import_id: UUID | None, created_at: Any, updated_at: Any,
) -> TransactionView:  # fmt: skip
    exp = _EXPONENTS.get(code)
    if exp is None:
        exp = _EXPONENTS[code] = currency(code).exponent
    shown = tuple(
        (None if c is None else _category_id(c), decimal_string(int(a), exp), m or "") for c, a, m in splits or ()
    )
    return TransactionView(
        id, account_id, booked_on, description, payee, decimal_string(amount_minor, exp), code, shown,
        tuple(tags), status, source, external_id, cat_source, str(Decimal(cat_confidence)), cat_explanation,
        cat_rule_id, transfer_id, import_id, created_at, updated_at,
    )  # fmt: skip


def transaction_views(cursor: Any) -> RowMaker[TransactionView]:
    """A psycopg row factory making each row of a ``TRANSACTION_COLUMNS`` query a transaction as
    the list shows it, straight from its values (no entities, and no dict per row, on the way):
    the columns are found by name once per result. The repository contract holds each view equal
    to ``valorize_core.model.transaction_view`` of :func:`transaction`."""
    result = cursor.pgresult
    names = [(result.fname(i) or b"").decode() for i in range(result.nfields)] if result is not None else []
    if not names:
        return no_result
    values_of = itemgetter(*[names.index(name) for name in _VIEW_COLUMNS])

    def make(values: Sequence[Any]) -> TransactionView:
        return _view(*values_of(values))

    return make


def transaction_params(tx: Transaction) -> tuple[Any, ...]:
    c = tx.categorization
    return (
        list(transaction_tokens(tx)),
        tx.tenant_id, tx.id, tx.account_id, tx.booked_on, tx.description, tx.payee, tx.amount.minor,
        tx.amount.currency.code, tx.amount.currency.exponent, tx.status.value, tx.source.value, list(tx.tags),
        tx.external_id, tx.fingerprint, c.source.value, c.confidence, c.explanation, c.rule_id, tx.transfer_id,
        tx.import_id, tx.created_at, tx.updated_at,
    )  # fmt: skip


def transaction_columns(tenant_id: UUID, transactions: Sequence[Transaction]) -> list[Any]:
    """The parameters of ``_INSERT_TX_MANY``: the tenant, then each column of
    :func:`transaction_params` as one list (search words and tags space-joined: they are word
    characters, never a space)."""
    columns = list(zip(*(transaction_params(tx) for tx in transactions), strict=True))
    search, tags = [" ".join(words) for words in columns[0]], [" ".join(t) for t in columns[12]]
    return [tenant_id, search, *map(list, columns[2:12]), tags, *map(list, columns[13:])]


def split_columns(tenant_id: UUID, transactions: Sequence[Transaction]) -> list[Any]:
    """The parameters of ``_INSERT_SPLIT_MANY``: the tenant, then each column of the
    transactions' :func:`split_params` as one list."""
    params = [p for tx in transactions for p in split_params(tx)]
    return [tenant_id, *(list(column) for column in list(zip(*params, strict=True))[1:])]


def split_params(tx: Transaction) -> list[tuple[Any, ...]]:
    return [(tx.tenant_id, tx.id, i, s.category_id, s.amount.minor, s.memo) for i, s in enumerate(tx.splits)]


def budget(r: Row) -> Budget:
    return Budget(
        id=r["id"], tenant_id=r["tenant_id"], category_id=r["category_id"], period=r["period"],
        limit=Money(r["limit_minor"], r["currency"]), rollover=r["rollover"], starts_on=r["starts_on"],
        created_at=r["created_at"], thresholds=tuple(r["thresholds"]),
    )  # fmt: skip


def rule(r: Row, patterns: PatternEngine) -> Rule:
    conditions = condition_from_data(r["conditions"], patterns=patterns)
    if not isinstance(conditions, ConditionGroup):
        conditions = ConditionGroup("all", (conditions,))  # type: ignore[arg-type]
    return Rule(
        id=r["id"], tenant_id=r["tenant_id"], name=r["name"], position=r["position"], conditions=conditions,
        actions=tuple(action_from_data(a) for a in r["actions"]), created_at=r["created_at"],
        stop_processing=r["stop_processing"], enabled=r["enabled"],
    )  # fmt: skip


def statement_import(r: Row) -> StatementImport:
    return StatementImport(
        id=r["id"], tenant_id=r["tenant_id"], account_id=r["account_id"], filename=r["filename"],
        status=r["status"], created_at=r["created_at"], total_rows=r["total_rows"], imported=r["imported"],
        duplicates=r["duplicates"], errors=tuple(RowError(e["line"], e["message"]) for e in r["errors"]),
        completed_at=r["completed_at"], updated=r["updated"], balance_check=_balance_check(r.get("balance_check")),
    )  # fmt: skip


def balance_check_json(check: BalanceCheck | None) -> Jsonb | None:
    """An import's balance check as stored (``imports.balance_check``)."""
    if check is None:
        return None
    statement, account = check.statement_balance, check.account_balance
    return Jsonb({"as_of": check.as_of.isoformat(), "currency": statement.currency.code,
                  "statement_minor": statement.minor, "account_minor": account.minor})  # fmt: skip


def _balance_check(raw: Any) -> BalanceCheck | None:
    if raw is None:
        return None
    return BalanceCheck(date.fromisoformat(raw["as_of"]), Money(raw["statement_minor"], raw["currency"]),
                        Money(raw["account_minor"], raw["currency"]))  # fmt: skip


def webhook_endpoint(r: Row) -> WebhookEndpoint:
    return WebhookEndpoint(id=r["id"], tenant_id=r["tenant_id"], url=r["url"],
                   event_types=tuple(r["event_types"]), secret=r["secret"], created_at=r["created_at"],
                   enabled=r["enabled"], previous_secret=r["previous_secret"],
                   previous_valid_until=r["previous_valid_until"], disabled_reason=r["disabled_reason"])  # fmt: skip


def webhook_delivery(r: Row) -> WebhookDelivery:
    return WebhookDelivery(id=r["id"], tenant_id=r["tenant_id"], endpoint_id=r["endpoint_id"],
                   event_id=r["event_id"], event_type=r["event_type"], body=r["body"], created_at=r["created_at"],
                   status=DeliveryStatus(r["status"]), attempts=r["attempts"], next_attempt_at=r["next_attempt_at"],
                   last_attempt_at=r["last_attempt_at"], response_status=r["response_status"],
                   response_body=r["response_body"], error=r["error"], redeliveries=r["redeliveries"])  # fmt: skip


def job(r: Row) -> Job:
    return Job(
        id=r["id"], tenant_id=r["tenant_id"], kind=r["kind"], status=r["status"], created_at=r["created_at"],
        params=dict(r["params"]), result=None if r["result"] is None else dict(r["result"]), error=r["error"],
        completed_at=r["completed_at"],
    )  # fmt: skip


def rule_suggestion(r: Row) -> RuleSuggestion:
    return RuleSuggestion(
        id=r["id"], tenant_id=r["tenant_id"], payee_key=r["payee_key"], category_id=r["category_id"],
        agreeing=r["agreeing"], total=r["total"], status=r["status"], created_at=r["created_at"],
        decided_at=r["decided_at"], rule_id=r["rule_id"],
    )  # fmt: skip


def notification(r: Row) -> Notification:
    return Notification(
        id=r["id"], tenant_id=r["tenant_id"], kind=r["kind"], title=r["title"], body=r["body"],
        created_at=r["created_at"], data=dict(r["data"]), read_at=r["read_at"],
    )  # fmt: skip


def payee_entry(r: Row) -> PayeeMemoryEntry:
    return PayeeMemoryEntry(r["payee_key"], tuple(r["recent"]), r["updated_at"])


def tenant(r: Row) -> Tenant:
    return Tenant(r["id"], r["name"], r["created_at"])


def user(r: Row) -> User:
    return User(r["id"], r["email"], r["name"], r["created_at"])


def token(r: Row) -> ApiToken:
    return ApiToken(
        r["id"], r["tenant_id"], r["user_id"], r["name"], r["token_hash"], r["role"], r["created_at"],
        r["revoked_at"], r["last_four"],
    )  # fmt: skip


def rate(r: Row) -> Rate:
    return Rate(currency(r["base"]), currency(r["quote"]), r["rate_date"], r["rate"], r["source"], r["shared"])


def schedule(r: Row) -> Schedule:
    cur = currency(r["currency"])
    splits = tuple(Split(None if c is None else UUID(c), Money(int(a), cur), m or "") for c, a, m in r["splits"])
    return Schedule(
        id=r["id"], tenant_id=r["tenant_id"], account_id=r["account_id"], name=r["name"], payee=r["payee"],
        amount=Money(r["amount_minor"], cur), splits=splits, rule=r["rule"], starts_on=r["starts_on"],
        next_due=r["next_due"], created_at=r["created_at"], updated_at=r["updated_at"],
        tolerance=Money(r["tolerance_minor"], cur), tags=tuple(r["tags"]), window_days=r["window_days"],
        active=r["active"],
    )  # fmt: skip


def schedule_params(s: Schedule) -> tuple[Any, ...]:
    splits = [[None if x.category_id is None else str(x.category_id), x.amount.minor, x.memo] for x in s.splits]
    tolerance = s.tolerance.minor if s.tolerance is not None else 0
    return (s.account_id, s.name, s.payee, s.amount.minor, tolerance, s.amount.currency.code, Jsonb(splits),
            list(s.tags), s.rule, s.starts_on, s.next_due, s.window_days, s.active, s.created_at,
            s.updated_at)  # fmt: skip


def subscription(r: Row) -> TrackedSubscription:
    return TrackedSubscription(
        id=r["id"], tenant_id=r["tenant_id"], account_id=r["account_id"], payee_key=r["payee_key"],
        payee=r["payee"], cadence=r["cadence"], amount=Money(r["amount_minor"], r["currency"]), status=r["status"],
        last_charged=r["last_charged"], decided_at=r["decided_at"], schedule_id=r["schedule_id"],
        stopped_on=r["stopped_on"],
    )  # fmt: skip
