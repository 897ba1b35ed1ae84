"""Tags in lists and reports, on both adapters."""

from __future__ import annotations

from http_support import Api


def _descriptions(api: Api, query: str) -> list[str]:
    response = api.get(f"/api/transactions?{query}")
    assert response.status_code == 200, response.text
    return sorted(t["description"] for t in response.json()["items"])


def test_lists_filter_by_any_or_all_tags(api: Api) -> None:
    account = api.account()
    for description, tags in (("Hotel", ["trip", "work"]), ("Dinner", ["trip"]), ("Laptop", ["work"]), ("Milk", [])):
        assert api.tx(account, "2026-03-02", description, "-10.00", tags=tags).status_code == 201
    assert _descriptions(api, "tag=trip") == ["Dinner", "Hotel"]
    assert _descriptions(api, "tag=trip&tag=work") == ["Dinner", "Hotel", "Laptop"]
    assert _descriptions(api, "tag=trip&tag=work&tag_match=all") == ["Hotel"]
    assert _descriptions(api, "tag=TRIP&tag_match=all") == ["Dinner", "Hotel"]  # tags are lower-case
    assert _descriptions(api, "tag=nothing") == []
    assert len(_descriptions(api, "")) == 4
    # with other filters and pages
    assert _descriptions(api, "tag=work&q=lap") == ["Laptop"]
    first = api.get("/api/transactions?tag=trip&limit=1").json()
    second = api.get(f"/api/transactions?tag=trip&limit=1&cursor={first['next_cursor']}").json()
    assert {first["items"][0]["description"], second["items"][0]["description"]} == {"Dinner", "Hotel"}
    assert second["next_cursor"] is None


def test_bad_tag_filters_are_422(api: Api) -> None:
    for query, field in (("tag=bad%20tag", "tag"), ("tag_match=some", "tag_match")):
        response = api.get(f"/api/transactions?{query}")
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    many = "&".join(f"tag=t{i}" for i in range(21))
    assert api.get(f"/api/transactions?{many}").status_code in (400, 422)
