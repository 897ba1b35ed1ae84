"""POST /api/transactions/corrections: many corrections in one unit of work, all or none, each
learned as a single correction is (the payee memory answers the next row of that payee)."""

from __future__ import annotations

import uuid

from http_support import Api

TX = "/api/transactions"


def _uncategorized(api: Api, account: str, description: str, day: str = "2026-11-03") -> str:
    r = api.tx(account, day, description, "-10.00", splits=[{"amount": "-10.00", "category_id": None}])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_many_corrections_apply_together_and_are_learned(api: Api) -> None:
    account = api.account()
    food, transport = api.category("Food"), api.category("Transport")
    bakery, taxi = _uncategorized(api, account, "PADARIA REAL"), _uncategorized(api, account, "TAXI AZUL")
    body = {"corrections": [{"transaction_id": bakery, "category_id": food},
                            {"transaction_id": taxi, "category_id": transport}]}  # fmt: skip
    r = api.post(f"{TX}/corrections", body)
    assert r.status_code == 200, r.text
    assert [(t["id"], t["splits"][0]["category_id"], t["categorization"]["source"]) for t in r.json()] == [
        (bakery, food, "manual"),
        (taxi, transport, "manual"),
    ]
    # Learned: the next row of each payee is categorized from memory.
    later = api.tx(account, "2026-11-20", "PADARIA REAL", "-7.00").json()
    assert (later["splits"][0]["category_id"], later["categorization"]["source"]) == (food, "memory")
    again = api.post(f"{TX}/corrections", body)  # nothing changes: the same rows come back
    assert [t["updated_at"] for t in again.json()] == [t["updated_at"] for t in r.json()]


def test_a_bad_correction_refuses_them_all(api: Api) -> None:
    account, savings = api.account(), api.account("Savings")
    food = api.category("Food")
    bakery = _uncategorized(api, account, "PADARIA REAL")
    unknown = {"transaction_id": str(uuid.uuid4()), "category_id": food}
    r = api.post(f"{TX}/corrections", {"corrections": [{"transaction_id": bakery, "category_id": food}, unknown]})
    assert r.status_code == 404, r.text
    assert api.get(f"{TX}/{bakery}").json()["splits"][0]["category_id"] is None
    twice = [{"transaction_id": bakery, "category_id": food}] * 2
    assert api.post(f"{TX}/corrections", {"corrections": twice}).status_code == 422
    assert api.post(f"{TX}/corrections", {"corrections": []}).status_code in (400, 422)
    foreign = {"transaction_id": bakery, "category_id": str(uuid.uuid4())}
    assert api.post(f"{TX}/corrections", {"corrections": [foreign]}).status_code == 422
    transfer = api.post("/api/transfers", {"from_account_id": account, "to_account_id": savings,
                                           "amount": "5.00", "booked_on": "2026-11-05"})  # fmt: skip
    leg = transfer.json()["inflow"]["id"]
    r = api.post(f"{TX}/corrections", {"corrections": [{"transaction_id": leg, "category_id": food}]})
    assert r.status_code == 409, r.text
    assert api.get(f"{TX}/{bakery}").json()["splits"][0]["category_id"] is None
