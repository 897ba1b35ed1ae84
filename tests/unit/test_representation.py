"""The reference JSON representation of a transaction is exactly what the API's DTO encodes.

Repositories may render list pages themselves (PostgreSQL does, in SQL); the repository contract
holds them equal to ``valorize_core.representation``, and this property holds that equal to
``schemas.TransactionOut`` — so a rendered page and an encoded one cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from valorize_core.representation import instant, render_transactions, transaction_json
from valorize_core.testing import strategies as vs
from valorize_core.transactions import (
    Categorization,
    CategorizationSource,
    Transaction,
    TransactionSource,
    TransactionStatus,
)
from valorize_entrypoints.api import schemas

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1)).flatmap(
    lambda d: st.sampled_from([UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30))]).map(
        lambda tz: d.replace(tzinfo=tz)
    )
)
texts = st.text(st.characters(blacklist_categories=["Cc", "Cs"]) | st.just("\t"), max_size=30)


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    currency = draw(st.sampled_from(["BRL", "JPY", "KWD", "USD"]))
    t = draw(vs.balanced_transactions(currency_code=currency, category_ids=[None, *draw(st.lists(vs.ids, max_size=3))]))
    categorization = Categorization(
        draw(st.sampled_from(list(CategorizationSource))),
        draw(st.decimals(0, 1, places=3)),
        draw(texts),
        draw(st.none() | vs.ids),
    )
    return replace(
        t, description=draw(texts) or "x", payee=draw(texts),
        tags=tuple(draw(st.lists(st.sampled_from(["a", "b/c", "x-1"]), unique=True))),
        status=draw(st.sampled_from(list(TransactionStatus))), source=draw(st.sampled_from(list(TransactionSource))),
        external_id=draw(st.none() | texts.filter(str.strip)), categorization=categorization,
        transfer_id=draw(st.none() | vs.ids), import_id=draw(st.none() | vs.ids),
        created_at=draw(moments), updated_at=draw(moments),
    )  # fmt: skip


@given(st.lists(transactions(), max_size=4))
def test_the_reference_representation_is_what_the_api_encodes(items: list[Transaction]) -> None:
    for t in items:  # the API's timestamps are UTC (PostgreSQL sessions run in UTC)
        t = replace(t, created_at=t.created_at.astimezone(UTC), updated_at=t.updated_at.astimezone(UTC))
        assert transaction_json(t) == json.loads(msgspec.json.encode(schemas.transaction(t)))
    page = schemas.transaction_page_json(render_transactions(items), "abc")
    assert json.loads(page) == {"items": [transaction_json(t) for t in items], "next_cursor": "abc"}


def test_instants_are_utc_with_microseconds_only_when_present() -> None:
    assert instant(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert instant(datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC)) == "2026-01-02T03:04:05.000120Z"
    assert instant(datetime(2026, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=3)))) == "2026-01-01T21:30:00Z"


@given(vs.balanced_transactions())
def test_confidence_keeps_its_stored_digits(t: Transaction) -> None:
    t = replace(t, categorization=Categorization(CategorizationSource.RULE, Decimal("0.900"), "rule 'x'", None))
    assert transaction_json(t)["categorization"]["confidence"] == "0.900"
