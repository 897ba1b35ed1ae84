"""QIF, CAMT.053 and MT940 files import through the API with correct amounts and dates; the
closing balance they give (and OFX's LEDGERBAL) is checked against the account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from http_support import Api, run_background_tasks
from test_imports import OFX

FIXTURES = Path(__file__).parent.parent / "fixtures" / "statements"


def upload(api: Api, account: str, fmt: str, content: bytes, **form: Any) -> Any:
    files = {"file": (f"statement.{fmt}", content, "application/octet-stream")}
    data = {"account_id": account, "format": fmt, **form}
    response = api.client.post("/api/imports", data=data, files=files, headers=api.headers)
    assert response.status_code == 202, response.text
    run_background_tasks(api.client)
    return api.get(f"/api/imports/{response.json()['id']}").json()


def amounts(api: Api) -> list[tuple[str, str, str]]:
    items = api.get("/api/transactions").json()["items"]
    return sorted((t["booked_on"], t["amount"]["amount"], t["status"]) for t in items)


def test_camt053_imports_and_its_closing_balance_matches(api: Api) -> None:
    account = api.account("Giro", "EUR", "1000.00")
    done = upload(api, account, "camt053", (FIXTURES / "camt053_v02.xml").read_bytes())
    assert (done["status"], done["imported"]) == ("completed", 4), done
    assert amounts(api) == [
        ("2026-11-03", "-12.30", "posted"),
        ("2026-11-04", "-19.99", "pending"),
        ("2026-11-04", "-75.00", "posted"),
        ("2026-11-04", "2500.00", "posted"),
    ]
    check = done["balance_check"]
    assert check["as_of"] == "2026-11-04"
    assert check["statement_balance"]["amount"] == check["account_balance"]["amount"] == "3412.70"
    assert (check["difference"]["amount"], check["matches"]) == ("0.00", True)
    again = upload(api, account, "camt053", (FIXTURES / "camt053_v02.xml").read_bytes())
    assert (again["imported"], again["duplicates"], again["balance_check"]["matches"]) == (0, 4, True)


def test_mt940_imports_and_a_missing_transaction_shows_as_a_difference(api: Api) -> None:
    account = api.account("Giro", "EUR", "1000.00")
    api.tx(account, "2026-11-05", "Later, not in the statement", "-40.00")  # after :62F:, left out
    content = (FIXTURES / "statement.sta").read_bytes()
    missing_one = content.replace(b":61:2611041104D75,00NDDTNONREF//2026110400009012\n", b"").replace(
        b":86:105?00Lastschrift?20Abschlag Strom November?32STADTWERKE BERLIN\n", b""
    )
    done = upload(api, account, "mt940", missing_one)
    assert (done["status"], done["imported"]) == ("completed", 2), done
    check = done["balance_check"]
    assert check["statement_balance"]["amount"] == "3412.70"
    assert check["account_balance"]["amount"] == "3487.70"
    assert (check["difference"]["amount"], check["matches"]) == ("75.00", False)
    fixed = upload(api, account, "mt940", content)
    assert (fixed["imported"], fixed["duplicates"]) == (1, 2)
    assert fixed["balance_check"]["matches"] is True


def test_qif_imports_with_declared_day_first_dates(api: Api) -> None:
    account = api.account()
    qif = b"!Type:Bank\nD03/11/2026\nT-12.50\nPPADARIA REAL\n^\nD04/11/2026\nT1234.56\nPACME LTDA\n^\n"
    done = upload(api, account, "qif", qif, mapping='{"day_first": true}')
    assert (done["status"], done["imported"], done["balance_check"]) == ("completed", 2, None), done
    assert amounts(api) == [("2026-11-03", "-12.50", "posted"), ("2026-11-04", "1234.56", "posted")]
    refused = api.client.post(
        "/api/imports",
        data={"account_id": account, "format": "qif", "mapping": '{"day_first": "maybe"}'},
        files={"file": ("s.qif", qif, "application/qif")},
        headers=api.headers,
    )
    assert refused.status_code == 422


def test_ofx_ledger_balance_is_checked(api: Api) -> None:
    account = api.account("Checking", "BRL", "0.00")
    done = upload(api, account, "ofx", OFX)
    check = done["balance_check"]
    assert (check["as_of"], check["statement_balance"]["amount"]) == ("2026-11-05", "1209.56")
    assert (check["account_balance"]["amount"], check["matches"]) == ("1209.56", True)
