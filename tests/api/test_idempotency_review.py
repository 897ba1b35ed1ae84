"""Adversarial checks of Idempotency-Keys through HTTP (memory and PostgreSQL): a request refused
before it wrote keeps no key, whatever units its process committed meanwhile for other requests."""

from __future__ import annotations

import uuid

import pytest
from http_support import Api
from test_lost_answers import Cut

TX = "/api/transactions"


def _body(account: str, amount: str = "-10.00") -> dict[str, str]:
    return {"account_id": account, "booked_on": "2026-11-03", "description": "PADARIA", "amount": amount}


def test_a_request_refused_before_its_write_keeps_no_key(api: Api) -> None:
    """422 (refused before it ran) releases the key: the corrected request with the same key runs
    once; a write of the tenant committed by another request meanwhile marks nothing of it."""
    account = api.account()
    key = {"Idempotency-Key": uuid.uuid4().hex}
    refused = api.post(TX, _body(account, "ten"), headers=key)
    assert refused.status_code == 422, refused.text
    assert api.post(TX, _body(account, "-1.00")).status_code == 201  # another request's write
    assert api.post(TX, _body(account, "ten"), headers=key).status_code == 422  # run again, not replayed
    created = api.post(TX, _body(account), headers=key)
    assert created.status_code == 201, created.text
    again = api.post(TX, _body(account), headers=key)
    assert (again.status_code, again.headers.get("idempotent-replayed")) == (201, "true")
    assert len(api.get(TX).json()["items"]) == 2


def test_another_token_of_the_tenant_cannot_rerun_an_applied_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first request's answer is lost after its commit; the same key and body from another
    token of the same tenant is another request (422), never a second write; the first token's
    retry is told it was applied."""
    account = api.account()
    spare = api.post("/api/tokens", {"name": "spare", "role": "owner"}).json()
    other = {"Authorization": f"Bearer {spare['token']}"}
    key = uuid.uuid4().hex
    Cut(monkeypatch, "after")
    assert api.post(TX, _body(account), headers={"Idempotency-Key": key}).status_code == 503
    reused = api.client.post(TX, json=_body(account), headers={**other, "Idempotency-Key": key})
    assert reused.status_code == 422, reused.text
    retried = api.post(TX, _body(account), headers={"Idempotency-Key": key})
    assert (retried.status_code, retried.json()["code"]) == (409, "already_applied")
    assert len(api.get(TX).json()["items"]) == 1
