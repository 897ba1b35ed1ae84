"""The HTTP API end to end, on both containers (memory and PostgreSQL)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest
from http_support import Api, run_background_tasks
from litestar.testing import TestClient

from valorize_core.model.errors import Unavailable
from valorize_entrypoints.api.idempotency import LOCK, TTL, request_digest

TX = "/api/transactions"


def test_readme_walkthrough_signup_account_split_transaction_list(api: Api) -> None:
    checking = api.account("Checking", opening="1500.00")
    food, home = api.category("Food"), api.category("Home")
    r = api.post(TX, {
        "account_id": checking, "booked_on": "2026-11-03", "description": "SUPERMERCADO ZAFFARI",
        "amount": "-230.45", "splits": [
            {"amount": "-180.45", "category_id": food}, {"amount": "-50.00", "category_id": home, "memo": "bulbs"},
        ],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["amount"] == {"amount": "-230.45", "currency": "BRL"}
    assert [s["amount"]["amount"] for s in created["splits"]] == ["-180.45", "-50.00"]
    page = api.get(TX).json()
    assert [t["id"] for t in page["items"]] == [created["id"]]
    accounts = api.get("/api/accounts").json()
    assert accounts[0]["balance"] == {"amount": "1269.55", "currency": "BRL"}


def test_another_tenants_ids_are_404(api: Api, client: TestClient[Any]) -> None:
    other = Api(client)
    account = api.account()
    tx = api.tx(account, "2026-11-03", "X", "-1.00").json()
    for method, path, body in [
        ("get", f"{TX}/{tx['id']}", None),
        ("patch", f"{TX}/{tx['id']}", {"description": "stolen"}),
        ("delete", f"{TX}/{tx['id']}", None),
        ("get", f"/api/accounts/{account}", None),
        ("patch", f"/api/accounts/{account}", {"name": "stolen"}),
        ("get", f"{TX}/{tx['id']}/suggestions", None),
    ]:
        r = getattr(other, method)(path, body) if body is not None else getattr(other, method)(path)
        assert r.status_code == 404, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = other.post(TX, {"account_id": account, "booked_on": "2026-11-03", "description": "X", "amount": "-1.00"})
    assert r.status_code == 404
    assert api.get(f"{TX}/{tx['id']}").json()["description"] == "X"
    assert other.get(TX).json()["items"] == []


def test_idempotency_key_replays_and_creates_one_row(api: Api) -> None:
    account = api.account()
    body = {"account_id": account, "booked_on": "2026-11-03", "description": "PADARIA", "amount": "-10.00"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.post(TX, body, headers=key)
    again = api.post(TX, body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.json() == again.json()
    assert len(api.get(TX).json()["items"]) == 1
    assert api.get("/api/accounts").json()[0]["balance"]["amount"] == "990.00"
    different = api.post(TX, {**body, "amount": "-11.00"}, headers=key)
    assert different.status_code == 422
    assert len(api.get(TX).json()["items"]) == 1


def test_a_concurrent_duplicate_is_409(api: Api, client: TestClient[Any]) -> None:
    account = api.account()
    body = json.dumps({"account_id": account, "booked_on": "2026-11-03", "description": "P", "amount": "-1.00"})
    key = uuid.uuid4().hex
    runtime = client.app.state.runtime
    # The first request is still running: its claim is in place and not yet completed.
    digest = request_digest(TX, b"", uuid.UUID(api.token_id), body.encode())

    async def first_request_running() -> object:
        now = runtime.app.ports.clock.now()
        return await runtime.idempotency.claim(uuid.UUID(api.tenant_id), key, digest, now, TTL, LOCK)

    client.blocking_portal.call(first_request_running)
    headers = {**api.headers, "Idempotency-Key": key, "content-type": "application/json"}
    r = client.post(TX, content=body, headers=headers)
    assert r.status_code == 409, r.text
    assert api.get(TX).json()["items"] == []


def test_viewers_are_read_only(api: Api) -> None:
    viewer = api.post("/api/tokens", {"name": "readonly", "role": "viewer"})
    assert viewer.status_code == 201
    headers = {"Authorization": f"Bearer {viewer.json()['token']}"}
    account = api.account()
    assert api.client.get("/api/accounts", headers=headers).status_code == 200
    r = api.client.post(
        TX, json={"account_id": account, "booked_on": "2026-11-03", "description": "X", "amount": "-1.00"},
        headers=headers,
    )  # fmt: skip
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"


def test_tokens_can_be_listed_and_revoked(api: Api) -> None:
    extra = api.post("/api/tokens", {"name": "laptop"}).json()
    assert {t["name"] for t in api.get("/api/tokens").json()} >= {"laptop", "first token"}
    assert api.post(f"/api/tokens/{extra['details']['id']}/revoke").status_code == 200
    r = api.client.get("/api/accounts", headers={"Authorization": f"Bearer {extra['token']}"})
    assert r.status_code == 401


def test_errors_are_problem_json_with_fields(api: Api) -> None:
    account = api.account()
    r = api.tx(account, "2026-11-03", "X", "12.345")
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"] == [{"field": "amount", "message": "'12.345' has more than 2 decimal places for BRL"}]
    r = api.post(TX, {"account_id": "not-an-id", "booked_on": "2026-11-03", "description": "X", "amount": "1"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "account_id"
    r = api.post(TX, {"account_id": account, "booked_on": "2026-11-03", "description": "X", "amount": "-1.00",
                      "splits": [{"amount": "-0.50"}]})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["code"] == "unbalanced_splits"
    assert api.client.get("/api/accounts").status_code == 401
    assert api.get("/api/no-such-thing").status_code == 404
    r = api.client.post(
        "/api/accounts", content=b"{not json", headers={**api.headers, "content-type": "application/json"}
    )
    assert r.status_code in (400, 422)
    assert r.headers["content-type"].startswith("application/problem+json")


def test_request_ids_metrics_and_readiness(api: Api) -> None:
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    logging.getLogger("valorize.access").addHandler(handler)
    try:
        r = api.get("/api/accounts", headers={"X-Request-ID": "abc-123"})
    finally:
        logging.getLogger("valorize.access").removeHandler(handler)
    assert r.headers["x-request-id"] == "abc-123"
    logged = [rec.fields for rec in lines if rec.fields["request_id"] == "abc-123"]  # type: ignore[attr-defined]
    assert [(f["route"], f["status"]) for f in logged] == [("/api/accounts", 200)]
    assert logged[0]["tenant_id"] == api.tenant_id  # the reader's tenant, not null
    assert len(api.get("/api/accounts").headers["x-request-id"]) == 32
    assert api.client.get("/ready").json() == {"status": "ready"}
    assert api.client.get("/health").status_code == 200
    metrics = api.client.get("/metrics").text
    assert 'path="/api/accounts"' in metrics
    assert "valorize_request_duration_seconds" in metrics
    assert api.client.get("/schema/openapi.json").json()["info"]["title"] == "Valorize API"


def test_rules_budgets_reports_and_learning(api: Api) -> None:
    account = api.account()
    transport, food = api.category("Transport"), api.category("Food")
    rule = {
        "name": "rides",
        "conditions": {"match": "any", "conditions": [
            {"field": "description", "operator": "contains", "value": "uber"},
            {"field": "payee", "operator": "equals", "value": "99"},
        ]},
        "actions": [{"type": "set_category", "category_id": transport}, {"type": "add_tag", "tag": "rides"}],
    }  # fmt: skip
    old = api.post(
        TX, {"account_id": account, "booked_on": "2026-11-01", "description": "UBER *TRIP", "amount": "-20.00"}
    )
    preview = api.post("/api/rules/preview", rule).json()
    assert preview["total"] == 1
    assert preview["items"][0]["after"]["splits"][0]["category_id"] == transport
    assert api.post("/api/rules", rule).status_code == 201
    applying = api.post("/api/rules/apply", {})
    assert (applying.status_code, applying.json()["status"]) == (202, "pending")
    run_background_tasks(api.client)
    applied = api.get(applying.headers["location"]).json()
    assert (applied["status"], applied["result"]) == ("completed", {"examined": 1, "changed": 1})
    assert api.get(f"{TX}/{old.json()['id']}").json()["tags"] == ["rides"]
    new = api.post(
        TX, {"account_id": account, "booked_on": "2026-11-02", "description": "UBER *TRIP 2", "amount": "-15.00"}
    )
    assert new.json()["categorization"]["source"] == "rule"
    bakery = api.post(
        TX, {"account_id": account, "booked_on": "2026-11-03", "description": "PADARIA REAL", "amount": "-8.00"}
    )
    fixed = api.post(f"{TX}/{bakery.json()['id']}/category", {"category_id": food})
    assert fixed.json()["categorization"]["source"] == "manual"
    again = api.post(
        TX, {"account_id": account, "booked_on": "2026-11-04", "description": "PADARIA REAL 4", "amount": "-9.00"}
    )
    assert again.json()["splits"][0]["category_id"] == food
    suggestions = api.get(f"{TX}/{again.json()['id']}/suggestions").json()
    assert suggestions[0]["category_id"] == food
    assert suggestions[0]["explanation"]
    budget = api.post(
        "/api/budgets", {"category_id": transport, "limit": "100.00", "currency": "BRL", "starts_on": "2026-11-01"}
    )
    assert budget.status_code == 201, budget.text
    status = api.get("/api/budgets/status", params={"day": "2026-11-15"}).json()
    assert status[0]["spent"] == {"amount": "35.00", "currency": "BRL"}
    assert status[0]["percent"] == "35.00"
    report = api.get("/api/reports/spend_by_category", params={"start": "2026-11-01", "end": "2026-11-30"}).json()
    assert {row["category_id"]: row["spent"]["amount"] for row in report["rows"]} == {transport: "35.00", food: "17.00"}
    transfer = api.post("/api/transfers", {"from_account_id": account, "to_account_id": api.account("Savings"),
                                           "amount": "50.00", "booked_on": "2026-11-05"})  # fmt: skip
    assert transfer.status_code == 201
    assert api.delete(f"{TX}/{transfer.json()['inflow']['id']}").status_code == 204


def test_report_jobs_and_notifications(api: Api) -> None:
    account = api.account()
    food = api.category("Food")
    body = {"category_id": food, "limit": "10.00", "currency": "BRL", "starts_on": "2026-03-01"}
    assert api.post("/api/budgets", body).status_code == 201
    assert api.tx(account, "2026-03-02", "MERCADO", "-8.50", category_id=food).status_code == 201
    asked = api.post("/api/reports", {"kind": "spend_by_category", "start": "2026-03-01", "end": "2026-03-31"})
    assert asked.status_code == 202, asked.text
    assert api.get(asked.headers["location"]).json()["status"] == "pending"
    bad = api.post("/api/reports", {"kind": "spend_by_category", "start": "2026-04-01", "end": "2026-03-01"})
    assert bad.status_code == 422
    unknown_rule = api.post("/api/rules/apply", {"rule_ids": [str(uuid.uuid4())]})
    assert unknown_rule.status_code == 404
    run_background_tasks(api.client)
    report = api.get(asked.headers["location"]).json()
    assert report["status"] == "completed"
    assert report["result"]["rows"] == [
        {
            "month": "2026-03-01",
            "category_id": food,
            "category_name": "Food",
            "spent": {"amount": "8.50", "currency": "BRL"},
        }
    ]
    notes = api.get("/api/notifications").json()
    titles = sorted(n["title"] for n in notes)
    assert titles == ["Budget 80% used", "Report ready"], titles
    budget_note = next(n for n in notes if n["kind"] == "budget")
    assert budget_note["body"] == "8.50 BRL of 10.00 BRL spent; 1.50 BRL left this period."
    read = api.post(f"/api/notifications/{budget_note['id']}/read", {})
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert [n["kind"] for n in api.get("/api/notifications?unread=true").json()] == ["job"]
    assert api.post(f"/api/notifications/{uuid.uuid4()}/read", {}).status_code == 404
    assert api.get(f"/api/jobs/{uuid.uuid4()}").status_code == 404
    assert api.get("/api/notifications?limit=0").status_code == 422


def test_rule_suggestions_over_http(api: Api) -> None:
    account = api.account()
    fuel = api.category("Fuel")
    for day in ("2026-11-01", "2026-11-08", "2026-11-15"):
        created = api.tx(account, day, f"COMPRA CARTAO 4321 POSTO IPIRANGA {day[-2:]}/11", "-120.00").json()
        assert api.post(f"{TX}/{created['id']}/category", {"category_id": fuel}).status_code == 200
    (proposed,) = api.get("/api/rules/suggestions?status=pending").json()
    assert (proposed["payee"], proposed["category_id"], proposed["agreeing"]) == ("Posto Ipiranga", fuel, 3)
    assert "3 of the last 3" in proposed["reason"]
    accepted = api.post(f"/api/rules/suggestions/{proposed['id']}/accept", {})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["rule"]["actions"] == [{"type": "set_category", "category_id": fuel}]
    assert api.post(f"/api/rules/suggestions/{proposed['id']}/dismiss", {}).status_code == 409
    assert api.post(f"/api/rules/suggestions/{uuid.uuid4()}/accept", {}).status_code == 404
    later = api.tx(account, "2026-11-22", "POSTO IPIRANGA 22/11", "-90.00").json()
    assert later["categorization"]["source"] == "rule"
    assert api.get("/api/rules/suggestions?status=bogus").status_code == 422


def test_batch_categorization_runs_as_a_job(api: Api) -> None:
    account = api.account()
    food = api.category("Food")
    first = api.tx(account, "2026-11-01", "PADARIA REAL 01/11", "-5.00").json()
    second = api.tx(account, "2026-11-02", "COMPRA CARTAO 77 PADARIA REAL", "-6.00").json()
    assert second["splits"][0]["category_id"] is None
    # A correction teaches the memory; the batch job then categorizes what was left behind.
    assert api.post(f"{TX}/{first['id']}/category", {"category_id": food}).status_code == 200
    asked = api.post(f"{TX}/categorize", {"account_id": account})
    assert asked.status_code == 202, asked.text
    assert api.post(f"{TX}/categorize", {"account_id": str(uuid.uuid4())}).status_code == 404
    run_background_tasks(api.client)
    job = api.get(asked.headers["location"]).json()
    assert (job["status"], job["result"]) == ("completed", {"examined": 1, "categorized": 1})
    again = api.get(f"{TX}/{second['id']}").json()
    assert again["splits"][0]["category_id"] == food
    assert again["categorization"]["source"] == "memory"


def test_startup_freezes_the_heap_it_built(client: TestClient[Any]) -> None:
    # The app is started (lifespan ran): what startup built is out of the collector's way, so a
    # full collection under load does not walk it (the API's P99, perf/README.md).
    import gc

    try:
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_a_claim_the_store_could_not_release_is_released_once_it_answers(
    api: Api, client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went down under a request: its action failed (503) and releasing its key
    failed too. Once the store answers again, the retry runs — it does not meet a minute of 409s."""
    account = api.account()
    body = {"account_id": account, "booked_on": "2026-11-03", "description": "P", "amount": "-1.00"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    runtime = client.app.state.runtime
    create, release = runtime.app.create_transaction, runtime.idempotency.release
    down = {"action": True, "release": 1}

    async def failing_create(command: Any) -> Any:
        if down["action"]:
            raise Unavailable("the database is down")
        return await create(command)

    async def failing_release(*args: Any) -> None:
        if down["release"]:
            down["release"] -= 1
            raise Unavailable("the database is down")
        await release(*args)

    monkeypatch.setattr(runtime.app, "create_transaction", failing_create)
    monkeypatch.setattr(runtime.idempotency, "release", failing_release)
    cut = api.post(TX, body, headers=key)
    assert cut.status_code == 503, cut.text
    down["action"] = False  # the database is back
    deadline = time.monotonic() + 5
    while (retried := api.post(TX, body, headers=key)).status_code == 409:
        assert retried.json()["code"] == "request_in_progress"
        assert retried.headers["retry-after"] == "1"
        assert time.monotonic() < deadline, "the key stayed claimed"
        time.sleep(0.1)
    assert retried.status_code == 201, retried.text
    assert len(api.get(TX).json()["items"]) == 1
