"""POST /api/transactions/suggestions: the suggestions of many transactions in one query, each
the same as the transaction's own GET .../suggestions."""

from __future__ import annotations

import uuid

from http_support import Api

TX = "/api/transactions"


def test_many_transactions_get_the_suggestions_each_gets_alone(api: Api) -> None:
    account = api.account()
    food, transport = api.category("Food"), api.category("Transport")
    for day, text, category in (("01", "PADARIA REAL", food), ("02", "PIZZARIA BELLA", food),
                                ("03", "UBER TRIP", transport), ("04", "POSTO SHELL", transport)):  # fmt: skip
        assert api.tx(account, f"2026-11-{day}", text, "-9.00", category_id=category).status_code == 201
    ids = []
    for text in ("PADARIA REAL", "PIZZARIA NAPOLI", "UBER TRIP 7", "LIVRARIA"):
        r = api.tx(account, "2026-11-10", text, "-3.00", splits=[{"amount": "-3.00", "category_id": None}])
        ids.append(r.json()["id"])
    r = api.post(f"{TX}/suggestions", {"transaction_ids": ids, "limit": 2})
    assert r.status_code == 200, r.text
    assert [item["transaction_id"] for item in r.json()] == ids
    for item in r.json():
        alone = api.get(f"{TX}/{item['transaction_id']}/suggestions", params={"limit": 2}).json()
        assert item["suggestions"] == alone
    assert r.json()[0]["suggestions"][0]["category_id"] == food


def test_unknown_or_repeated_transactions_are_refused(api: Api) -> None:
    account = api.account()
    one = api.tx(account, "2026-11-10", "PADARIA", "-3.00").json()["id"]
    assert api.post(f"{TX}/suggestions", {"transaction_ids": [one, str(uuid.uuid4())]}).status_code == 404
    assert api.post(f"{TX}/suggestions", {"transaction_ids": [one, one]}).status_code == 422
    assert api.post(f"{TX}/suggestions", {"transaction_ids": []}).status_code in (400, 422)
