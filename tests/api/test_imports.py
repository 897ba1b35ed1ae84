"""Statement imports over HTTP: upload, background import, status; twice adds nothing."""

from __future__ import annotations

import json
from typing import Any

from http_support import Api
from litestar.testing import TestClient

from valorize_adapters.memory import InMemoryTaskQueue
from valorize_adapters.postgres.task_queue import LocalDispatcher
from valorize_core.ports.task_queue import Task

CSV = (
    "data;lançamento;valor\n03/11/2026;PADARIA REAL;-12,50\n03/11/2026;PADARIA REAL;-12,50\n"
    "04/11/2026;SALARIO;1.234,56\n"
)
MAPPING = {"date_column": "data", "description_column": "lançamento", "amount_column": "valor",
           "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}  # fmt: skip


def run_background_tasks(client: TestClient[Any]) -> None:
    """What a dispatcher does: run every queued task through the worker's runner."""
    runtime = client.app.state.runtime

    async def drain() -> None:
        queue = runtime.task_queue
        if isinstance(queue, InMemoryTaskQueue):
            while (task := queue.take()) is not None:
                await runtime.runner.run(task)
            return

        async def deliver(task: Task, attempt: int) -> bool:
            await runtime.runner.run(task)
            return True

        dispatcher = LocalDispatcher(runtime.backend.pool, queue, deliver)
        while await dispatcher.run_once():
            pass

    client.blocking_portal.call(drain)


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
