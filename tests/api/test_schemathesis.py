"""Schemathesis against the OpenAPI schema at /schema: the API and its schema agree.

A real uvicorn server on PostgreSQL (the session's ``database_url``) runs in a thread for the
module; the schemathesis CLI sends every operation generated requests in every phase —
examples, coverage, fuzzing and stateful (sequences following the schema's links) — with every
check, authenticated as an owner whose tenant has data, and the test fails on any failure,
not only on 5xx. The few checks that cannot hold for an operation are switched off for that
operation alone in ``schemathesis.toml`` beside this file, each with its reason.
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

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def server_url(database_url: str) -> Iterator[str]:
    container = Container()
    # Rate limits are tested in test_rate_limits.py; here they would answer the fuzzer's
    # thousands of requests (and its deliberately wrong credentials) with 429s.
    settings = Settings(
        backend="postgres", database_url=database_url, db_pool_max=4,
        rate_limit_per_token="off", rate_limit_failed_auth="off",
    )  # fmt: skip
    container.settings.override(settings)
    with serving(create_app(container), startup_seconds=30) as base:
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


def test_schemathesis_finds_no_failure_in_any_phase(server_url: str, token: str) -> None:
    """The schemathesis CLI as CI runs it: all phases, all checks, any failure fails the test."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "--no-color",
            "run", f"{server_url}/schema/openapi.json", "--header", f"Authorization: Bearer {token}",
            # Every check runs (schemathesis 4's default); "--checks all" here would also override
            # the per-operation exclusions of the config file.
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", "60", "--seed", "20261205", "--workers", "2",
            # Revoking the run's own token would turn every later request into a 401; token
            # revocation is covered by tests/api/test_http.py and the authorization tests.
            "--exclude-name", "POST /api/tokens/{token_id}/revoke",
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    print(result.stdout)  # the whole report, shown by pytest when the test fails
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
