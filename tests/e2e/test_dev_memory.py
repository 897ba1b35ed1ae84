"""``valorize dev --memory`` as a subprocess: its background work runs (the in-memory queue has a
dispatcher of its own), so an import, a rule apply and a report all finish, as the API reports."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from valorize_entrypoints.testing import dev_serving

pytestmark = pytest.mark.slow

CSV = "data;lançamento;valor\n03/11/2026;UBER *TRIP;-20,00\n04/11/2026;PADARIA REAL;-12,50\n"
MAPPING = {"date_column": "data", "description_column": "lançamento", "amount_column": "valor",
           "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}  # fmt: skip


def _finished(http: httpx.Client, path: str, seconds: float = 20) -> Any:
    """Poll ``path`` until its status is no longer ``pending``."""
    deadline = time.monotonic() + seconds
    while True:
        body = http.get(path).json()
        if body["status"] != "pending":
            return body
        assert time.monotonic() < deadline, f"{path} still pending after {seconds} s"
        time.sleep(0.2)


def test_dev_memory_completes_an_import_a_rule_apply_and_a_report(tmp_path: Path) -> None:
    with (
        dev_serving(tmp_path, memory=True, startup_seconds=60) as dev,
        httpx.Client(base_url=dev.base, headers={"Authorization": f"Bearer {dev.token}"}, timeout=10) as http,
    ):
        account = http.post("/api/accounts", json={"name": "Conta", "kind": "checking", "currency": "BRL",
                                                   "opening_balance": "100.00"}).json()["id"]  # fmt: skip
        transport = http.post("/api/categories", json={"name": "Transport", "kind": "expense"}).json()["id"]

        uploaded = http.post(
            "/api/imports",
            data={"account_id": account, "mapping": json.dumps(MAPPING)},
            files={"file": ("extrato.csv", CSV.encode(), "text/csv")},
        )
        assert uploaded.status_code == 202, uploaded.text
        imported = _finished(http, f"/api/imports/{uploaded.json()['id']}")
        assert (imported["status"], imported["imported"]) == ("completed", 2)

        rule = {"name": "rides", "conditions": {"match": "any", "conditions": [
                    {"field": "description", "operator": "contains", "value": "uber"}]},
                "actions": [{"type": "set_category", "category_id": transport}]}  # fmt: skip
        assert http.post("/api/rules", json=rule).status_code == 201
        applying = http.post("/api/rules/apply", json={})
        assert applying.status_code == 202, applying.text
        applied = _finished(http, applying.headers["location"])
        assert (applied["status"], applied["result"]["changed"]) == ("completed", 1)

        asked = http.post("/api/reports", json={"kind": "spend_by_category", "start": "2026-11-01",
                                                "end": "2026-11-30"})  # fmt: skip
        assert asked.status_code == 202, asked.text
        report = _finished(http, asked.headers["location"])
        assert report["status"] == "completed", report
        assert report["result"]["rows"], report
    assert dev.proc.returncode in (0, -signal.SIGINT, 130), dev.output[-3000:]
    assert "Unclosed" not in dev.output
