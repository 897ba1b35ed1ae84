"""Bank files as they come, over HTTP: a Windows-1252 Banco do Brasil export by preset, a
suggested mapping sent back with the file, the presets listed."""

from __future__ import annotations

import json
from typing import Any

from http_support import Api, run_background_tasks

BANCO_DO_BRASIL = (
    '"Data","Lançamento","Detalhes","N° documento","Valor","Tipo Lançamento"\r\n'
    '"01/11/2026","Saldo Anterior","","","1.000,00",""\r\n'
    '"03/11/2026","Pix - Enviado","03/11 10:12 João Conceição","110301","-1.050,00","Saída"\r\n'
    '"04/11/2026","Pix - Recebido","04/11 11:40 Maria","110401","250,00","Entrada"\r\n'
).encode("cp1252")
EUROPEAN = "Datum;Omschrijving;Bedrag\n03-11-2026;Albert Heijn 1234;-€12,30\n04-11-2026;Salaris;€ 2.500,00\n".encode(
    "cp1252"
)


def upload(api: Api, account: str, content: bytes, **form: Any) -> Any:
    files = {"file": ("extrato.csv", content, "text/csv")}
    response = api.client.post("/api/imports", data={"account_id": account, **form}, files=files, headers=api.headers)
    assert response.status_code == 202, response.text
    run_background_tasks(api.client)
    return api.get(f"/api/imports/{response.json()['id']}").json()


def test_a_windows_1252_export_imports_by_preset(api: Api) -> None:
    account = api.account()
    done = upload(api, account, BANCO_DO_BRASIL, preset="banco_do_brasil")
    assert (done["status"], done["imported"]) == ("completed", 2), done
    listed = {t["description"]: t for t in api.get("/api/transactions").json()["items"]}
    assert listed["Pix - Enviado"]["amount"]["amount"] == "-1050.00"
    assert listed["Pix - Enviado"]["payee"] == "03/11 10:12 João Conceição"
    assert api.get("/api/accounts").json()[0]["balance"]["amount"] == "200.00"
    unknown = api.client.post(
        "/api/imports",
        data={"account_id": account, "preset": "nope"},
        files={"file": ("x.csv", BANCO_DO_BRASIL, "text/csv")},
        headers=api.headers,
    )
    assert unknown.status_code == 422
    assert "preset" in unknown.text


def test_a_suggested_mapping_imports_the_file_it_was_suggested_from(api: Api) -> None:
    files = {"file": ("export.csv", EUROPEAN, "text/csv")}
    response = api.client.post("/api/imports/mapping-suggestion", files=files, headers=api.headers)
    assert response.status_code == 200, response.text
    suggestion = response.json()
    assert suggestion["mapping"]["encoding"] == "windows-1252"
    assert suggestion["mapping"]["date_format"] == "%d-%m-%Y"
    assert suggestion["columns"] == ["Datum", "Omschrijving", "Bedrag"]
    account = api.account("Euro", "EUR", "0.00")
    done = upload(api, account, EUROPEAN, mapping=json.dumps(suggestion["mapping"]))
    assert (done["status"], done["imported"]) == ("completed", 2), done
    assert api.get("/api/accounts").json()[-1]["balance"]["amount"] == "2487.70"
    files = {"file": ("x.csv", b"no columns here", "text/csv")}
    refused = api.client.post("/api/imports/mapping-suggestion", files=files, headers=api.headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_presets_are_listed(api: Api) -> None:
    names = {p["name"] for p in api.get("/api/imports/presets").json()}
    assert {"nubank", "banco_do_brasil", "itau", "european"} <= names
