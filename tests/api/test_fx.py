"""Money across currencies through the API, on both adapters: the issue-26 scenario in one test,
and the refusals around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from http_support import Api

ECB = Path(__file__).parent.parent / "fixtures" / "ecb"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _money(amount: str, code: str) -> dict[str, str]:
    return {"amount": amount, "currency": code}


def test_accounts_in_three_currencies_rates_from_the_ecb_a_transfer_and_reports_in_brl(api: Api) -> None:
    brl, usd, eur = (
        api.account("Conta", "BRL", "1000.00"),
        api.account("Wise", "USD", "0"),
        api.account("N26", "EUR", "0"),
    )
    food = api.category("Food")

    # rates imported from an ECB file (1 EUR = 6.1234 BRL = 1.0512 USD on 2026-12-04)
    with (ECB / "eurofxref-hist-90d.xml").open("rb") as handle:
        upload = api.client.post(
            "/api/rates/ecb", files={"file": ("hist.xml", handle, "text/xml")}, headers=api.headers
        )
    assert _ok(upload) == {"stored": 8, "first": "2026-12-03", "last": "2026-12-04", "skipped": []}

    # a BRL → USD transfer with both amounts: the implied rate is returned, the legs are exact
    transfer = _ok(api.post("/api/transfers", {"from_account_id": brl, "to_account_id": usd, "amount": "582.50",
                                               "to_amount": "100.00", "booked_on": "2026-12-04"}), 201)  # fmt: skip
    assert transfer["outflow"]["amount"] == _money("-582.50", "BRL")
    assert transfer["inflow"]["amount"] == _money("100.00", "USD")
    assert transfer["rate"] == "0.171673819742"  # 100 / 582.50
    # and one EUR → USD by rate
    _ok(api.tx(eur, "2026-12-04", "Salary", "500.00"), 201)
    by_rate = _ok(api.post("/api/transfers", {"from_account_id": eur, "to_account_id": usd, "amount": "10.00",
                                              "rate": "1.0512", "booked_on": "2026-12-04"}), 201)  # fmt: skip
    assert by_rate["inflow"]["amount"] == _money("10.51", "USD")  # 10.512 half-even

    # spending in three currencies, tagged
    for account, amount, tags in ((usd, "-20.00", ["trip"]), (brl, "-61.23", ["trip", "food"]), (eur, "-5.00", [])):
        _ok(api.tx(account, "2026-12-04", "Lunch", amount, category_id=food, tags=tags), 201)

    balances = {a["id"]: a["balance"] for a in _ok(api.get("/api/accounts"))}
    assert balances[usd] == _money("90.51", "USD")  # 100 + 10.51 − 20
    assert balances[brl] == _money("356.27", "BRL")  # 1000 − 582.50 − 61.23

    # spend by category converted to BRL, with the rates listed
    spend = _ok(api.get("/api/reports/spend_by_category", params={"start": "2026-12-01", "end": "2026-12-31",
                                                                   "currency": "BRL"}))  # fmt: skip
    assert {(r["spent"]["currency"], r["spent"]["amount"]) for r in spend["rows"]} == {
        ("BRL", "61.23"), ("USD", "20.00"), ("EUR", "5.00"),
    }  # fmt: skip
    assert spend["rows"][0]["category_name"] == "Food"
    # 20 USD = 20 × 6.1234 / 1.0512 = 116.50 BRL; 5 EUR = 30.62 BRL; + 61.23
    assert spend["converted_rows"] == [
        {"month": "2026-12-01", "category_id": food, "category_name": "Food", "spent": _money("208.35", "BRL")}
    ]
    assert {(r["base"], r["quote"], r["on"], r["rate"], r["source"]) for r in spend["rates"]} == {
        ("EUR", "BRL", "2026-12-04", "6.1234", "ecb"),
        ("EUR", "USD", "2026-12-04", "1.0512", "ecb"),
    }
    assert spend["missing_rates"] == []
    assert spend["complete"] is True

    # net worth converted to BRL at the period's end (the newest rate on or before it)
    worth = _ok(api.get("/api/reports/net_worth", params={"start": "2026-12-01", "end": "2026-12-05",
                                                          "currency": "BRL"}))  # fmt: skip
    assert {(r["net_worth"]["currency"], r["net_worth"]["amount"]) for r in worth["rows"]} == {
        ("BRL", "356.27"), ("USD", "90.51"), ("EUR", "485.00"),
    }  # fmt: skip
    # USD→BRL = 6.1234 / 1.0512 = 5.82515220700 (12 digits): 90.51 USD → 527.23 BRL; 485 EUR → 2969.85; + 356.27
    [converted] = worth["converted_rows"]
    assert converted["as_of"] == "2026-12-05"
    assert converted["net_worth"] == _money("3853.35", "BRL")
    # the rows name their accounts, each balance converted on its own (they add up to the total)
    assert {(a["account_name"], a["balance"]["amount"]) for a in converted["accounts"]} == {
        ("Conta", "356.27"), ("Wise", "527.23"), ("N26", "2969.85"),
    }  # fmt: skip
    native_usd = next(r for r in worth["rows"] if r["net_worth"]["currency"] == "USD")
    assert native_usd["accounts"] == [{"account_id": usd, "account_name": "Wise", "balance": _money("90.51", "USD")}]
    assert worth["complete"] is True
    assert len(worth["rates"]) == 2

    # a rate that is missing is named, never zero
    jpy = api.account("Yen", "JPY", "1000")
    gap = _ok(api.get("/api/reports/net_worth", params={"start": "2026-12-01", "end": "2026-12-05",
                                                        "currency": "CLP"}))  # fmt: skip
    assert gap["complete"] is False
    assert {(m["base"], m["quote"]) for m in gap["missing_rates"]} >= {("BRL", "CLP"), ("JPY", "CLP")}
    assert jpy

    # tag filters and the tag report
    trip = _ok(api.get("/api/transactions", params={"tag": "trip"}))["items"]
    assert sorted(t["amount"]["amount"] for t in trip) == ["-20.00", "-61.23"]
    both = _ok(api.get("/api/transactions", params=[("tag", "trip"), ("tag", "food"), ("tag_match", "all")]))
    assert [t["amount"]["amount"] for t in both["items"]] == ["-61.23"]
    tags = _ok(api.get("/api/reports/spend_by_tag", params={"start": "2026-12-01", "end": "2026-12-31",
                                                            "currency": "BRL"}))  # fmt: skip
    assert {(r["tag"], r["spent"]["amount"], r["spent"]["currency"]) for r in tags["rows"]} == {
        ("trip", "20.00", "USD"), ("trip", "61.23", "BRL"), ("food", "61.23", "BRL"),
    }  # fmt: skip
    assert {(r["tag"], r["spent"]["amount"]) for r in tags["converted_rows"]} == {("trip", "177.73"), ("food", "61.23")}
    # an unknown parameter is refused, not ignored
    assert api.get("/api/transactions", params={"tags": "trip"}).status_code == 422


def test_cross_currency_transfers_need_what_arrives(api: Api) -> None:
    brl, usd, usd2 = api.account("A", "BRL"), api.account("B", "USD"), api.account("C", "USD")
    base = {"from_account_id": brl, "to_account_id": usd, "amount": "10.00", "booked_on": "2026-12-04"}
    for extra, field in (
        ({}, "to_amount"),
        ({"to_amount": "1.00", "rate": "0.2"}, "to_amount"),
        ({"to_amount": "0"}, "to_amount"),
        ({"to_amount": "1.001"}, "to_amount"),
        ({"rate": "0.0001"}, "to_amount"),  # 0.001 USD rounds to nothing
    ):
        response = api.post("/api/transfers", {**base, **extra})
        assert response.status_code == 422, (extra, response.text)
        assert response.json()["errors"][0]["field"] == field
    same = {**base, "to_account_id": usd2, "from_account_id": usd}
    assert api.post("/api/transfers", {**same, "rate": "2"}).status_code == 422
    assert api.post("/api/transfers", {**same, "to_amount": "11.00"}).status_code == 422
    assert _ok(api.post("/api/transfers", {**same, "to_amount": "10.00"}), 201)["rate"] == "1"
    balances = {a["id"]: a["balance"]["amount"] for a in _ok(api.get("/api/accounts"))}
    assert balances[brl] == "1000.00"  # nothing moved by the refusals


def test_rates_by_hand_and_listed(api: Api) -> None:
    entered = _ok(api.post("/api/rates", {"rates": [
        {"base": "USD", "quote": "BRL", "on": "2026-12-04", "rate": "5.80"},
        {"base": "CLF", "quote": "CLP", "on": "2026-12-04", "rate": "39123.45"},
    ]}), 201)  # fmt: skip
    assert [(r["rate"], r["source"], r["scope"]) for r in entered] == [("5.8", "manual", "tenant"),
                                                                        ("39123.45", "manual", "tenant")]  # fmt: skip
    listed = _ok(api.get("/api/rates", params=[("date_from", "2026-12-01"), ("date_to", "2026-12-31"),
                                               ("currency", "USD"), ("currency", "BRL")]))  # fmt: skip
    assert [(r["base"], r["quote"], r["rate"]) for r in listed] == [("USD", "BRL", "5.8")]
    for bad in ({"base": "USD", "quote": "USD", "on": "2026-12-04", "rate": "1"},
                {"base": "USD", "quote": "BRL", "on": "2026-12-04", "rate": "0"},
                {"base": "USD", "quote": "BRL", "on": "2026-12-04", "rate": "1e3"},
                {"base": "XAU", "quote": "BRL", "on": "2026-12-04", "rate": "1"}):  # fmt: skip
        assert api.post("/api/rates", {"rates": [bad]}).status_code == 422, bad
    bad_file = api.client.post("/api/rates/ecb", files={"file": ("x.csv", b"Date, USD\n2026-13-01, 1\n", "text/csv")},
                               headers=api.headers)  # fmt: skip
    assert bad_file.status_code == 422
    assert len(_ok(api.get("/api/rates", params={"date_from": "2026-01-01", "date_to": "2026-12-31"}))) == 2


def test_a_budget_in_the_reporting_currency_counts_spending_converted(api: Api) -> None:
    brl, usd = api.account("Conta", "BRL"), api.account("Wise", "USD")
    food = api.category("Food")
    _ok(api.post("/api/rates", {"rates": [{"base": "USD", "quote": "BRL", "on": "2026-12-01", "rate": "5.8"}]}), 201)
    budget = _ok(api.post("/api/budgets", {"category_id": food, "limit": "200.00", "currency": "BRL",
                                           "starts_on": "2026-12-01"}), 201)["id"]  # fmt: skip
    _ok(api.tx(brl, "2026-12-02", "Padaria", "-40.00", category_id=food), 201)
    _ok(api.tx(usd, "2026-12-03", "Diner", "-20.00", category_id=food), 201)  # 116.00 BRL at 5.8 (two days old)
    _ok(api.tx(usd, "2026-11-20", "Before", "-1.00", category_id=food), 201)  # before the budget: not counted
    status = _ok(api.get(f"/api/budgets/{budget}/status", params={"day": "2026-12-10"}))
    assert status["spent"] == _money("156.00", "BRL")
    assert status["missing_rates"] == []
    _ok(api.tx(usd, "2026-12-20", "Late", "-5.00", category_id=food), 201)  # the rate is 19 days old: missing
    status = _ok(api.get(f"/api/budgets/{budget}/status", params={"day": "2026-12-21"}))
    assert status["spent"] == _money("156.00", "BRL")
    assert status["missing_rates"] == [{"base": "USD", "quote": "BRL", "on": "2026-12-20", "amounts": 1}]


def test_the_tenants_reporting_currency_is_the_default(api: Api) -> None:
    usd = api.account("Wise", "USD")
    _ok(api.post("/api/rates", {"rates": [{"base": "USD", "quote": "BRL", "on": "2026-12-01", "rate": "5.8"}]}), 201)
    _ok(api.tx(usd, "2026-12-02", "Diner", "-10.00"), 201)
    params = {"start": "2026-12-01", "end": "2026-12-31"}
    assert _ok(api.get("/api/settings")) == {"reporting_currency": None}
    assert _ok(api.get("/api/reports/cash_flow", params=params))["converted_rows"] is None
    assert _ok(api.patch("/api/settings", {"reporting_currency": "BRL"})) == {"reporting_currency": "BRL"}
    flow = _ok(api.get("/api/reports/cash_flow", params=params))  # a cached read of before is not served
    assert flow["currency"] == "BRL"
    assert flow["converted_rows"][0]["outflow"] == _money("58.00", "BRL")
    assert _ok(api.get("/api/reports/cash_flow", params={**params, "currency": "USD"}))["currency"] == "USD"
    assert api.patch("/api/settings", {"reporting_currency": "ANG"}).status_code == 422  # withdrawn
    assert api.patch("/api/settings", {"reporting_currency": "XXX"}).status_code == 422
    assert _ok(api.patch("/api/settings", {"reporting_currency": None})) == {"reporting_currency": None}


def test_four_decimal_units_of_account_through_the_api(api: Api) -> None:
    uf = api.account("UF", "CLF", "12.3456")
    _ok(api.tx(uf, "2026-12-04", "Aluguel", "-0.0001"), 201)
    assert api.tx(uf, "2026-12-04", "Too fine", "-0.00001").status_code == 422
    account = _ok(api.get(f"/api/accounts/{uf}"))
    assert account["balance"] == _money("12.3455", "CLF")
    assert api.post("/api/accounts", {"name": "Old", "kind": "cash", "currency": "ANG"}).status_code == 422
    assert _ok(api.post("/api/accounts", {"name": "New", "kind": "cash", "currency": "XCG"}), 201)
