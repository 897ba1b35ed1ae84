"""Export → backup → restore over HTTP, on both adapters: a tenant restored into a new one
exports the same transactions (same ids), balances and rules; a restore over data is a 409."""

from __future__ import annotations

from http_support import Api, run_background_tasks
from test_imports import upload


def test_backup_restores_into_a_new_tenant_and_exports_the_same(api: Api) -> None:
    account = api.account("Conta", "BRL", "1000.00")
    food = api.category("Food")
    rule = {"name": "Padaria", "conditions": {"match": "all", "conditions": [
        {"field": "description", "operator": "contains", "value": "PADARIA"}]},
        "actions": [{"type": "set_category", "category_id": food}]}  # fmt: skip
    assert api.post("/api/rules", rule).status_code == 201
    upload(api, account)  # an import: three rows, two of them categorized by the rule
    run_background_tasks(api.client)
    api.tx(account, "2026-11-10", "=cmd|calc", "-5.00")
    exported = api.get("/api/exports/transactions").text
    archive = api.get("/api/backup")
    assert archive.status_code == 200, archive.text
    assert archive.headers["content-type"].startswith("application/x-ndjson")

    target = Api(api.client)  # another tenant (a new sign-up), empty
    files = {"archive": ("backup.jsonl", archive.content, "application/x-ndjson")}
    restored = target.client.post("/api/restore", files=files, headers=target.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["counts"]["transaction"] == 4
    assert target.get("/api/exports/transactions").text == exported
    assert [(a["id"], a["balance"]) for a in target.get("/api/accounts").json()] == [
        (a["id"], a["balance"]) for a in api.get("/api/accounts").json()
    ]
    assert target.get("/api/rules").json() == api.get("/api/rules").json()
    again = target.client.post("/api/restore", files=files, headers=target.headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    bad = {"archive": ("x.jsonl", b"not json\n", "application/x-ndjson")}
    assert Api(api.client).client.post("/api/restore", files=bad, headers=target.headers).status_code == 422
