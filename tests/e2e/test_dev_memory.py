"""``valorize dev --memory`` as a subprocess: its background work runs (the in-memory queue has a
dispatcher of its own), so an import, a rule apply and a report all finish, as the API reports."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from valorize_core.testing.net import free_port

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
    port, ws_port = free_port(), free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONWARNINGS": "ignore"}
    valorize = Path(sys.executable).with_name("valorize")
    log = (tmp_path / "dev.log").open("w+")
    proc = subprocess.Popen(
        [str(valorize), "dev", "--memory", "--port", str(port), "--realtime-port", str(ws_port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, Path(log.name).read_text()
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        demo = re.search(r"Demo token: (vz_\S+)", Path(log.name).read_text())
        assert demo, Path(log.name).read_text()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {demo.group(1)}"}, timeout=10) as http:
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
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert proc.returncode in (0, -signal.SIGINT, 130), Path(log.name).read_text()[-3000:]
    assert "Unclosed" not in Path(log.name).read_text()
