"""Statement imports over HTTP: upload, background import, status; twice adds nothing."""

from __future__ import annotations

import json
from typing import Any

from http_support import Api, run_background_tasks

CSV = (
    "data;lançamento;valor\n03/11/2026;PADARIA REAL;-12,50\n03/11/2026;PADARIA REAL;-12,50\n"
    "04/11/2026;SALARIO;1.234,56\n"
)
MAPPING = {"date_column": "data", "description_column": "lançamento", "amount_column": "valor",
           "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}  # fmt: skip


def upload(api: Api, account: str, text: str = CSV, mapping: Any = None, **extra: Any) -> Any:
    form = {"account_id": account, "mapping": json.dumps(mapping or MAPPING), **extra}
    files = {"file": ("extrato.csv", text.encode(), "text/csv")}
    return api.client.post("/api/imports", data=form, files=files, headers=api.headers)


def test_importing_the_same_file_twice_adds_nothing(api: Api) -> None:
    account = api.account()
    first = upload(api, account)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "pending"
    run_background_tasks(api.client)
    done = api.get(f"/api/imports/{first.json()['id']}").json()
    assert (done["status"], done["imported"], done["duplicates"]) == ("completed", 3, 0)
    second = upload(api, account)
    run_background_tasks(api.client)
    again = api.get(f"/api/imports/{second.json()['id']}").json()
    assert (again["status"], again["imported"], again["duplicates"]) == ("completed", 0, 3)
    assert len(api.get("/api/transactions").json()["items"]) == 3
    assert api.get("/api/accounts").json()[0]["balance"]["amount"] == "2209.56"


def test_bad_rows_and_bad_files_leave_nothing_half_imported(api: Api) -> None:
    account = api.account()
    broken_row = upload(api, account, CSV + "31/02/2026;NOPE;-1,00\n")
    run_background_tasks(api.client)
    result = api.get(f"/api/imports/{broken_row.json()['id']}").json()
    assert (result["status"], result["imported"]) == ("failed", 0)
    assert result["errors"][0]["line"] == 5
    unreadable = upload(api, account, "just;some;thing\n1;2;3\n")
    run_background_tasks(api.client)
    assert api.get(f"/api/imports/{unreadable.json()['id']}").json()["status"] == "failed"
    assert api.get("/api/transactions").json()["items"] == []
    skipping = upload(api, account, CSV + "31/02/2026;NOPE;-1,00\n", skip_invalid_rows="true")
    run_background_tasks(api.client)
    assert api.get(f"/api/imports/{skipping.json()['id']}").json()["imported"] == 3


def test_upload_is_validated_before_anything_is_stored(api: Api) -> None:
    account = api.account()
    assert upload(api, account, mapping={"date_column": "data"}).status_code == 422
    assert upload(api, account, text="").status_code == 422
    form = {"account_id": account, "mapping": "not json"}
    files = {"file": ("x.csv", b"a", "text/csv")}
    assert api.client.post("/api/imports", data=form, files=files, headers=api.headers).status_code == 422
    other = "00000000-0000-7000-8000-000000000000"
    assert upload(api, other).status_code == 404
    assert api.get(f"/api/imports/{other}").status_code == 404


OFX = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261105<LANGUAGE>POR</SONRS>
</SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>BRL
<BANKACCTFROM><BANKID>0341<ACCTID>12345<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261101<DTEND>20261105
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261103<TRNAMT>-12.50<FITID>A1<NAME>PADARIA REAL<MEMO>COMPRA</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20261103<TRNAMT>-12.50<FITID>A2<NAME>PADARIA REAL<MEMO>COMPRA</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261104<TRNAMT>1234.56<FITID>A3<NAME>SALARIO ACME</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1209.56<DTASOF>20261105</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def upload_ofx(api: Api, account: str, content: bytes = OFX) -> Any:
    form = {"account_id": account, "format": "ofx"}
    files = {"file": ("extrato.ofx", content, "application/x-ofx")}
    return api.client.post("/api/imports", data=form, files=files, headers=api.headers)


def test_ofx_imports_dedup_by_fitid(api: Api) -> None:
    account = api.account()
    first = upload_ofx(api, account)
    assert first.status_code == 202, first.text
    run_background_tasks(api.client)
    done = api.get(f"/api/imports/{first.json()['id']}").json()
    assert (done["status"], done["imported"], done["duplicates"]) == ("completed", 3, 0)
    listed = api.get("/api/transactions").json()["items"]
    assert sorted(t["external_id"] for t in listed) == ["A1", "A2", "A3"]
    again = upload_ofx(api, account)
    run_background_tasks(api.client)
    assert api.get(f"/api/imports/{again.json()['id']}").json()["duplicates"] == 3
    broken = upload_ofx(api, account, b"<OFX>not really")
    run_background_tasks(api.client)
    failed = api.get(f"/api/imports/{broken.json()['id']}").json()
    assert failed["status"] == "failed"
    assert "OFX" in failed["errors"][0]["message"]
    usd = upload_ofx(api, api.account("Dollars", "USD"))
    run_background_tasks(api.client)
    assert api.get(f"/api/imports/{usd.json()['id']}").json()["status"] == "failed"
    assert len(api.get("/api/transactions").json()["items"]) == 3


def test_a_pending_row_posts_in_the_next_statement(api: Api) -> None:
    account = api.account()
    mapping = {**MAPPING, "external_id_column": "id", "status_column": "situação"}
    header = "data;lançamento;valor;id;situação\n"
    first = upload(api, account, header + "03/11/2026;POSTO SHELL;-100,00;;Pendente\n", mapping)
    run_background_tasks(api.client)
    assert api.get(f"/api/imports/{first.json()['id']}").json()["imported"] == 1
    assert api.get("/api/transactions").json()["items"][0]["status"] == "pending"
    posted = upload(api, account, header + "04/11/2026;SHELL POSTO 123;-100,00;F-9;Efetivado\n", mapping)
    run_background_tasks(api.client)
    result = api.get(f"/api/imports/{posted.json()['id']}").json()
    assert (result["imported"], result["duplicates"], result["updated"]) == (0, 0, 1)
    (tx,) = api.get("/api/transactions").json()["items"]
    assert (tx["status"], tx["booked_on"]) == ("posted", "2026-11-04")
    assert api.get("/api/accounts").json()[0]["balance"]["amount"] == "900.00"  # opened with 1,000.00
    bad = upload(api, account, header, {**mapping, "pending_values": "pendente"})
    assert bad.status_code == 422


HOSTILE_MAPPINGS = {
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "a NUL in a column name": json.dumps({**MAPPING, "date_column": "\x00"}),
    "a NUL delimiter": json.dumps({**MAPPING, "delimiter": "\x00"}),
    "a NUL in a pending value": json.dumps({**MAPPING, "pending_values": ["\x00"]}),
    "a lone surrogate": json.dumps({**MAPPING, "date_format": "%Y\ud800"}),
    "a column name that is no text": json.dumps({**MAPPING, "date_column": 3}),
}


def test_a_hostile_mapping_is_a_422_and_stores_nothing(api: Api) -> None:
    """The ``mapping`` form field is JSON outside the JSON body guard: it was decoded with no
    depth limit (deep nesting: 500) and its strings reached PostgreSQL unchecked (NUL: 500)."""
    account = api.account()
    for name, raw in HOSTILE_MAPPINGS.items():
        form = {"account_id": account, "mapping": raw}
        files = {"file": ("extrato.csv", CSV.encode(), "text/csv")}
        response = api.client.post("/api/imports", data=form, files=files, headers=api.headers)
        assert response.status_code == 422, (name, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    run_background_tasks(api.client)
    assert api.get("/api/transactions").json()["items"] == []
