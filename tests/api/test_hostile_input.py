"""Hostile request bodies and amounts: refused with problem+json before any work, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 10_000 + b"]" * 10_000
ACCOUNT = b'{"name": "Main", "kind": "cash", "currency": "BRL"}'


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_deep_json_is_400_before_authentication(api: Api) -> None:
    response = api.client.post("/api/accounts", content=DEEP, headers=JSON)  # no token at all
    _problem(response, 400, "json_too_deep")
    deep_object = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    _problem(api.client.post("/api/signup", content=deep_object, headers=JSON), 400, "json_too_deep")


def test_deep_json_is_400_before_the_idempotency_key_is_claimed(api: Api) -> None:
    headers = {**api.headers, **JSON, "Idempotency-Key": "deep-1"}
    _problem(api.client.post("/api/accounts", content=DEEP, headers=headers), 400, "json_too_deep")
    # The key was never claimed: the same key with a good body runs, once.
    assert api.client.post("/api/accounts", content=ACCOUNT, headers=headers).status_code == 201
    again = api.client.post("/api/accounts", content=ACCOUNT, headers=headers)
    assert again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"


def test_depth_counts_brackets_outside_strings_only() -> None:
    from valorize_entrypoints.api.body_limits import json_too_deep

    assert not json_too_deep(b'{"description": "' + b"[{" * 500 + b'"}', 32)
    assert not json_too_deep(b'{"a": "\\"[[[[", "b": [[[1]]]}', 4)
    assert json_too_deep(b'{"a": "\\"[[[[", "b": [[[[1]]]]}', 4)
    assert not json_too_deep(b"[" * 32 + b"]" * 32, 32)
    assert json_too_deep(b"[" * 33 + b"]" * 33, 32)


def test_a_rule_nested_as_deep_as_rules_go_passes_the_depth_limit(api: Api) -> None:
    leaf: dict[str, Any] = {"field": "description", "operator": "contains", "value": "x"}
    group: dict[str, Any] = {"match": "all", "conditions": [leaf]}
    for _ in range(4):  # rules.MAX_DEPTH groups
        group = {"match": "any", "conditions": [group]}
    category = api.category("Food")
    body = {"name": "deep", "conditions": group, "actions": [{"type": "set_category", "category_id": category}]}
    assert api.post("/api/rules", body).status_code == 201


def test_oversized_json_is_413(api: Api) -> None:
    huge = b'{"name": "' + b"x" * (2 << 20) + b'"}'
    _problem(api.client.post("/api/accounts", content=huge, headers=JSON), 413, "body_too_large")


def test_oversized_chunked_json_is_413_without_a_content_length(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65_536
        yield b'"}'

    response = api.client.post("/api/accounts", content=chunks(), headers={**api.headers, **JSON})
    _problem(response, 413, "body_too_large")


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_a_json_route_refuses_other_media_types_with_415(api: Api, media: str | None) -> None:
    headers = {**api.headers, **({"Content-Type": media} if media else {})}
    if media is None:  # httpx adds none for raw bytes
        assert "content-type" not in {k.lower() for k in headers}
    _problem(api.client.post("/api/accounts", content=ACCOUNT, headers=headers), 415, "unsupported_media_type")
    assert api.get("/api/accounts").json() == []  # nothing was written


@pytest.mark.parametrize(
    "media", ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]
)
def test_json_media_types_are_accepted(api: Api, media: str) -> None:
    response = api.client.post("/api/accounts", content=ACCOUNT, headers={**api.headers, "Content-Type": media})
    assert response.status_code == 201, response.text


def test_malformed_json_is_400(api: Api) -> None:
    response = api.client.post("/api/accounts", content=b'{"name": ', headers={**api.headers, **JSON})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("amount", [" 1.00", "1.00 ", "١٢٣", "１２３", "1,000.00", "(1.00)", "1.00-", "-0", "-0.00"])
def test_amounts_take_one_ascii_spelling(api: Api, amount: str) -> None:
    account = api.account(opening="0")
    response = api.tx(account, "2026-11-01", "PADARIA", amount)
    assert response.status_code == 422, response.text
    opening = api.post("/api/accounts", {"name": "B", "kind": "cash", "currency": "BRL", "opening_balance": amount})
    assert opening.status_code == 422, opening.text
    assert api.get(f"/api/transactions?account_id={account}").json()["items"] == []
    assert api.get(f"/api/accounts/{account}").json()["balance"]["amount"] == "0.00"


@pytest.mark.parametrize(("amount", "stored"), [("0", "0.00"), ("+0", "0.00"), ("+1.5", "1.50"), ("-0.01", "-0.01")])
def test_amounts_in_the_grammar_are_taken(api: Api, amount: str, stored: str) -> None:
    response = api.tx(api.account(), "2026-11-01", "PADARIA", amount)
    assert response.status_code == 201, response.text
    assert response.json()["amount"]["amount"] == stored


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/accounts", {"name": "A", "kind": "cash", "currency": "BRL", "opening_balance": 5}),
        ("/api/accounts", {"name": "A", "kind": "cash", "currency": "brl"}),
        ("/api/rules/apply", {"include_manual": 0}),
        ("/api/budgets", {"category_id": "01a24396-64f5-703b-80be-d45bde857958", "limit": "1", "currency": "BRL",
                          "thresholds": ["80"]}),
    ],
)  # fmt: skip
def test_bodies_are_decoded_strictly_as_the_schema_says(api: Api, path: str, body: dict[str, Any]) -> None:
    """Litestar converts leniently (0 → False, "80" → 80): bodies the schema refuses were taken."""
    response = api.post(path, body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


def test_a_patch_is_decoded_strictly_too(api: Api) -> None:
    account = api.account()
    response = api.patch(f"/api/accounts/{account}", {"archived": 0})
    assert response.status_code == 422, response.text
    assert api.get(f"/api/accounts/{account}").json()["archived"] is False


@pytest.mark.parametrize("email", ["a\x00b@example.com", "ana@exam\x1fple.com", "ana@example.com\x85"])
def test_an_email_with_control_characters_is_422_not_500(api: Api, email: str) -> None:
    """PostgreSQL text cannot hold NUL: the e-mail reached the INSERT and failed there."""
    response = api.client.post("/api/signup", json={"tenant_name": "T", "email": email, "name": "N"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("email", ["a\x00b@example.com", "ana@exam\x1fple.com", "ana\x7f@example.com"])
def test_the_domain_refuses_control_characters_in_an_email(email: str) -> None:
    from valorize_core.model.errors import ValidationError
    from valorize_core.model.identity import normalize_email

    with pytest.raises(ValidationError):
        normalize_email(email)


def test_an_anonymous_request_is_401_whatever_its_body(api: Api) -> None:
    """The strict body check runs after authentication: the route still answers 401 first."""
    response = api.client.post("/api/accounts", json={"name": "A", "kind": "cash", "currency": "BRL", "archived": 0})
    assert response.status_code == 401, response.text


def _post_in_chunks(api: Api, path: str, headers: dict[str, str], chunks: int, size: int = 65_536) -> tuple[int, int]:
    """POST ``chunks`` chunks of ``size`` bytes straight through the app's ASGI interface, as a
    server delivers a streamed upload: the answer's status and how many bytes the app read."""
    read = 0
    status = 0

    async def call() -> None:
        sent = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent, read
            sent += 1
            read += size
            return {"type": "http.request", "body": b"x" * size, "more_body": sent < chunks}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("203.0.113.9", 50000), "server": ("testserver", 80), "state": {},
        }  # fmt: skip
        await api.client.app(scope, receive, send)

    api.client.blocking_portal.call(call)
    return status, read


def test_an_idempotency_key_never_makes_the_server_buffer_an_unbounded_upload(api: Api) -> None:
    """The idempotency middleware read every body whole, before authenticating the caller and
    without a limit: an anonymous multipart upload with an ``Idempotency-Key`` was buffered in
    memory to its end (and copied once per chunk: quadratic). Now the caller is authenticated
    first (an anonymous request goes on to its 401 unread) and a body is read up to the route's
    ``request_max_body_size`` (10 MB), then 413."""
    limit = 10_000_000
    multipart = {"Content-Type": "multipart/form-data; boundary=zz", "Idempotency-Key": "upload-1"}
    status, read = _post_in_chunks(api, "/api/imports", multipart, chunks=400)  # 26 MB
    assert status == 401
    assert read <= limit + 65_536
    status, read = _post_in_chunks(api, "/api/imports", {**multipart, **api.headers}, chunks=400)
    assert status == 413
    assert read <= limit + 65_536


@pytest.mark.parametrize("media", ["application/jsonx", "application/json-seq", "application/json"])
def test_broadcasting_auth_parses_json_only_as_the_guard_sees_it(api: Api, media: str) -> None:
    """``/broadcasting/auth`` took any ``application/json…`` media type as JSON, while the body
    guard checks depth for ``application/json`` and ``+json`` only: ``application/jsonx`` slipped
    a 100,000-deep body past the guard into ``json.loads`` (RecursionError: 500)."""
    headers = {**api.headers, "Content-Type": media}
    response = api.client.post("/broadcasting/auth", content=b"[" * 100_000, headers=headers)
    assert response.status_code in (400, 403, 404, 422), response.text
