"""Schemathesis against the OpenAPI schema at /schema: no 5xx, responses as documented.

A real uvicorn server (memory backend) runs in a thread for the module; the schemathesis CLI
sends every operation generated requests, authenticated as an owner whose tenant has data.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    container = Container()
    container.settings.override(Settings(backend="memory"))
    with serving(create_app(container), startup_seconds=20) as base:
        yield base


@pytest.fixture(scope="module")
def token(server_url: str) -> str:
    with httpx.Client(base_url=server_url) as client:
        secret = client.post(
            "/api/signup", json={"tenant_name": "Fuzz", "email": "fuzz@example.com", "name": "F"}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {secret}"}
        account = client.post(
            "/api/accounts", json={"name": "Main", "kind": "checking", "currency": "BRL"}, headers=headers
        ).json()["id"]
        client.post("/api/categories", json={"name": "Food", "kind": "expense"}, headers=headers)
        client.post(
            "/api/transactions",
            json={"account_id": account, "booked_on": "2026-11-01", "description": "PADARIA", "amount": "-5.00"},
            headers=headers,
        )
    return str(secret)


def test_schemathesis_finds_no_server_error_or_schema_violation(server_url: str, token: str) -> None:
    """The schemathesis CLI, as CI would run it: every phase, positive and negative data."""
    checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")), "run", f"{server_url}/schema/openapi.json",
            "--checks", checks, "--header", f"Authorization: Bearer {token}", "--max-examples", "30",
            "--phases", "examples,coverage,fuzzing", "--seed", "20261122", "--workers", "2", "--no-color",
        ],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
