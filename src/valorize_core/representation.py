"""The public JSON representation of a transaction: the reference rendering.

This is the shape every client sees (``GET /api/transactions`` items, docs/api.md): amounts as
exact decimal strings with their currency, timestamps in RFC 3339 UTC (``Z``; microseconds only
when not zero), ids as strings. A repository may render pages itself — PostgreSQL builds them
as JSON in one query, so a list page never becomes Python objects (``rendered_page``) — and the
contract suite holds every such rendering equal to this one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from valorize_core.listing import PageKey
from valorize_core.money import Money
from valorize_core.transactions import Transaction

__all__ = ["RenderedPage", "instant", "render_transactions", "transaction_json"]


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page already rendered: ``items`` is the JSON array text of its transactions."""

    items: str
    next_key: PageKey | None


def instant(moment: datetime) -> str:
    """RFC 3339 in UTC: ``2026-01-02T03:04:05Z`` or ``2026-01-02T03:04:05.000120Z``."""
    utc = moment.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _money(m: Money) -> dict[str, str]:
    return {"amount": m.to_decimal_string(), "currency": m.currency.code}


def _id(value: object) -> str | None:
    return None if value is None else str(value)


def transaction_json(t: Transaction) -> dict[str, Any]:
    """The transaction as JSON-ready values, in the API's field order."""
    c = t.categorization
    return {
        "id": str(t.id),
        "account_id": str(t.account_id),
        "booked_on": t.booked_on.isoformat(),
        "description": t.description,
        "payee": t.payee,
        "amount": _money(t.amount),
        "splits": [{"category_id": _id(s.category_id), "amount": _money(s.amount), "memo": s.memo} for s in t.splits],
        "tags": list(t.tags),
        "status": t.status.value,
        "source": t.source.value,
        "external_id": t.external_id,
        "categorization": {
            "source": c.source.value,
            "confidence": str(c.confidence),
            "explanation": c.explanation,
            "rule_id": _id(c.rule_id),
        },
        "transfer_id": _id(t.transfer_id),
        "import_id": _id(t.import_id),
        "created_at": instant(t.created_at),
        "updated_at": instant(t.updated_at),
    }


def render_transactions(items: Sequence[Transaction]) -> str:
    """The JSON array text of ``items``."""
    return json.dumps([transaction_json(t) for t in items], ensure_ascii=False, separators=(",", ":"))
