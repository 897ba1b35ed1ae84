"""The OpenAPI document and the API agree: constraints stated, methods allowed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from http_support import Api


@pytest.fixture
def document(api: Api) -> dict[str, Any]:
    response = api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_nested_constraints_are_stated(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["BudgetIn"]["properties"]["thresholds"]["items"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
    }
    assert "pattern" in schemas["TransactionIn"]["properties"]["tags"]["items"]
    assert schemas["TransactionIn"]["additionalProperties"] is False  # unknown fields are refused
    amount = re.compile(schemas["TransactionIn"]["properties"]["amount"]["pattern"])
    assert [bool(amount.match(a)) for a in ("-12.34", "0", "-0.00", " 1")] == [True, True, False, False]
    email = re.compile(schemas["SignupIn"]["properties"]["email"]["pattern"])
    assert email.match("ana@example.com")
    assert not email.match("ana@example.com\x1f")
    assert re.compile(schemas["AccountIn"]["properties"]["currency"]["pattern"]).match("BRL")
    assert not re.compile(schemas["AccountIn"]["properties"]["currency"]["pattern"]).match("XXX")


def test_query_constraints_are_stated(document: dict[str, Any]) -> None:
    limit = next(p for p in document["paths"]["/api/notifications"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/accounts", {"GET", "POST"}),
        ("/api/accounts/{id}", {"GET", "PATCH", "DELETE"}),
        ("/api/transactions/{id}", {"GET", "PATCH", "DELETE"}),
        ("/api/budgets/{id}", {"PATCH", "DELETE"}),
        ("/api/tokens", {"GET", "POST"}),
    ],
)
def test_options_allows_every_documented_method(
    api: Api, document: dict[str, Any], path: str, methods: set[str]
) -> None:
    concrete = path.replace("{id}", "01a24396-64f5-703b-80be-d45bde857958")
    response = api.client.options(concrete, headers=api.headers)
    assert response.status_code == 204
    allowed = {m.strip() for m in response.headers["allow"].split(",")} - {"OPTIONS", "HEAD"}
    assert allowed == methods
    template = next(p for p in document["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), concrete))
    assert {m.upper() for m in document["paths"][template]} == methods
