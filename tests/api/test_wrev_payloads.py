"""Adversarial review of the outbox and tasks written as JSON parameters (``json_to_recordset``)
and of the carried row and split: what the API answered is what the row, the outbox and the
task bodies hold, for text JSON escapes or PostgreSQL changes, and amounts past 2^53; text
PostgreSQL cannot hold is refused as a problem with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

TRICKY = [
    'back\\slash "quoted" \\u0000 \\ud800 literal escapes',
    "caf\u00e9 \U0001f9fe \U0001f600 astral",
    "line\u2028para\u2029 separators and \u00a0 nbsp",
    "\ufeffbom \uffff \ufdd0 noncharacters",
    "tab\there",
    "%s %(t)s $1 placeholders ' ; --",
    '{"payload": [1, 2]} \\" json',
    "\U0001f4b0" * 500,  # 500 astral characters: the longest description, 2000 bytes
]


@pytest.fixture
def pg_api(database_url: str) -> Iterator[tuple[Api, str]]:
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=database_url, db_pool_max=4))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client), database_url


def _rows(url: str, query: Any, params: Any = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:  # the server's owner: no row-level security in the way
        return conn.execute(query, params).fetchall()


def test_tricky_text_is_stored_as_answered_in_the_row_the_outbox_and_the_tasks(pg_api: tuple[Api, str]) -> None:
    api, url = pg_api
    account = api.account()
    # An endpoint that wants the events: each write's fan-out has something to do, so it is a task.
    hook = api.post("/api/webhooks", {"url": "https://93.184.216.34/hook", "event_types": ["transaction.created"]})
    assert hook.status_code == 201, hook.text
    for text in TRICKY:
        made = api.tx(account, "2026-03-02", text, "-1.00", payee="P", splits=[{"amount": "-1.00", "memo": text}])
        assert made.status_code == 201, (text, made.text)
        body = made.json()
        # What the API answered (the domain tidies whitespace) is what every copy holds.
        answered, memo = body["description"], body["splits"][0]["memo"]
        assert "\\u0000" not in text or "\\u0000" in answered
        again = api.get(f"/api/transactions/{body['id']}").json()
        assert again["description"] == answered
        assert again["splits"][0]["memo"] == memo
        (stored,) = _rows(
            url,
            "SELECT t.description, s.memo FROM transactions t JOIN splits s ON s.transaction_id = t.id WHERE t.id = %s",
            (body["id"],),
        )
        assert stored == (answered, memo)
        (event,) = _rows(
            url,
            "SELECT payload FROM outbox WHERE name = 'transaction.created' AND payload->>'transaction_id' = %s",
            (body["id"],),
        )
        assert event[0]["description"] == answered
        carried = _rows(
            url,
            "SELECT e FROM task_queue, jsonb_array_elements(payload->'events') e"
            " WHERE name = 'fan_out_webhooks' AND e->'payload'->>'transaction_id' = %s",
            (body["id"],),
        )
        assert carried
        assert all(task[0]["payload"]["description"] == answered for task in carried)


def _counts(url: str, tenant: str) -> tuple[int, int, int]:
    (row,) = _rows(
        url,
        "SELECT (SELECT count(*) FROM transactions WHERE tenant_id = %s), (SELECT count(*) FROM outbox"
        " WHERE tenant_id = %s), (SELECT balance_minor FROM accounts WHERE tenant_id = %s LIMIT 1)",
        (tenant, tenant, tenant),
    )
    return row


@pytest.mark.parametrize(
    "change",
    [
        {"description": "nul \u0000 inside"},
        {"splits": [{"amount": "-1.00", "memo": "nul \u0000"}]},
        {"payee": "nul \u0000"},
        {"external_id": "nul \u0000"},
        {"amount": "1" + "0" * 19},
        {"amount": 18446744073709551616},
        {"amount": "-9223372036854775808"},
    ],
)
def test_what_postgres_cannot_hold_is_a_problem_and_nothing_is_written(
    pg_api: tuple[Api, str], change: dict[str, Any]
) -> None:
    api, url = pg_api
    account = api.account()
    before = _counts(url, api.tenant_id)
    body = {"account_id": account, "booked_on": "2026-03-02", "description": "ok", "amount": "-1.00", **change}
    refused = api.post("/api/transactions", body)
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert _counts(url, api.tenant_id) == before


def test_a_lone_surrogate_is_a_problem_and_nothing_is_written(pg_api: tuple[Api, str]) -> None:
    api, url = pg_api
    account = api.account()
    before = _counts(url, api.tenant_id)
    raw = '{"account_id": "' + account + '", "booked_on": "2026-03-02", "description": "x\\ud800y", "amount": "-1.00"}'
    refused = api.client.post(
        "/api/transactions", content=raw, headers={**api.headers, "content-type": "application/json"}
    )
    assert refused.status_code == 400, refused.text
    assert _counts(url, api.tenant_id) == before


def test_the_largest_amounts_are_exact_everywhere_and_a_balance_past_them_is_refused(pg_api: tuple[Api, str]) -> None:
    api, url = pg_api
    account = api.account(currency="JPY", opening="0")
    largest = "999999999999999"  # MAX_MINOR in a currency without decimals
    made = api.tx(account, "2026-03-02", "BIG", largest)
    assert made.status_code == 201, made.text
    (event,) = _rows(
        url,
        "SELECT payload FROM outbox WHERE name = 'transaction.created' AND payload->>'transaction_id' = %s",
        (made.json()["id"],),
    )
    assert event[0]["amount_minor"] == 999_999_999_999_999
    before = _counts(url, api.tenant_id)
    beyond = api.tx(account, "2026-03-02", "ONE MORE", "1")  # the balance would pass MAX_MINOR
    assert beyond.status_code == 422, beyond.text
    assert _counts(url, api.tenant_id) == before
    balance = 999_999_999_999_999
    (stored,) = _rows(url, "SELECT balance_minor FROM accounts WHERE id = %s", (account,))
    assert stored[0] == balance
    changed = _rows(
        url,
        "SELECT (payload->>'balance_minor')::numeric FROM outbox WHERE name = 'account.balance_changed'"
        " AND payload->>'account_id' = %s ORDER BY seq DESC LIMIT 1",
        (account,),
    )
    assert changed == [(balance,)]
    shown = api.get(f"/api/accounts/{account}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["balance"]["amount"] == str(balance)


def test_one_idempotency_key_sent_six_times_at_once_writes_once(pg_api: tuple[Api, str]) -> None:
    api, url = pg_api
    account = api.account()
    body = {"account_id": account, "booked_on": "2026-03-02", "description": "ONCE ONLY", "amount": "-3.00"}
    headers = {"Idempotency-Key": "wrev-once"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: api.post("/api/transactions", body, headers=headers), range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    assert 201 in statuses
    made = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(made) == 1, made  # the winner's response, replayed to the others that came late
    rows = _rows(url, "SELECT id FROM transactions WHERE tenant_id = %s", (api.tenant_id,))
    assert len(rows) == 1
    assert api.get(f"/api/accounts/{account}").json()["balance"]["amount"] == "997.00"
    replay = api.post("/api/transactions", body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["id"] in made


@pytest.mark.parametrize("description", ["A" * 201, "\U0001f4b0" * 500])
def test_a_long_description_without_a_payee_is_taken(pg_api: tuple[Api, str], description: str) -> None:
    api, _ = pg_api
    made = api.tx(api.account(), "2026-03-02", description, "-1.00")
    assert made.status_code == 201, made.text
