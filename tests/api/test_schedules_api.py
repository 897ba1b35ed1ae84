"""Schedules and the forecast over HTTP, on both adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from http_support import Api, run_background_tasks

from valorize_core.runtime.scheduling import tick


def _today() -> Any:
    return datetime.now(UTC).date()


def test_schedule_lifecycle_and_errors(api: Api) -> None:
    checking = api.account()
    rent = api.category("Rent")
    body = {"account_id": checking, "name": "Rent", "amount": "-1500.00", "rule": "FREQ=MONTHLY;BYMONTHDAY=31",
            "starts_on": "2030-01-31", "category_id": rent, "tolerance": "10.00"}  # fmt: skip
    r = api.post("/api/schedules", body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["rule"] == "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"
    assert created["next_due"] == "2030-01-31"
    assert created["tolerance"] == {"amount": "10.00", "currency": "BRL"}
    detail = api.get(f"/api/schedules/{created['id']}").json()
    assert detail["upcoming"][:3] == ["2030-01-31", "2030-02-28", "2030-03-31"]
    assert [x["id"] for x in api.get("/api/schedules").json()] == [created["id"]]

    r = api.patch(f"/api/schedules/{created['id']}", {"active": False, "amount": "-1600.00"})
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["amount"]["amount"]) == (False, "-1600.00")

    for bad, field in (
        ({**body, "rule": "FREQ=HOURLY"}, "rule"),
        ({**body, "rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rule"),
        ({**body, "starts_on": "1950-01-01"}, "starts_on"),
    ):
        r = api.post("/api/schedules", bad)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.text
    assert api.post("/api/schedules", {**body, "rule": 5}).status_code == 422
    assert api.post("/api/schedules", {**body, "account_id": api.tenant_id}).status_code == 404
    assert api.get("/api/schedules/00000000-0000-7000-8000-000000000001").status_code == 404
    assert api.delete(f"/api/schedules/{created['id']}").status_code == 204
    assert api.get(f"/api/schedules/{created['id']}").status_code == 404
    assert api.get("/api/schedules").json() == []


def test_forecast_matches_a_hand_computation_and_the_job_posts_once(api: Api) -> None:
    checking = api.account(opening="1000.00")
    today = _today()
    tomorrow = today + timedelta(days=1)
    body = {"account_id": checking, "name": "Lunch", "amount": "-100.00", "rule": "FREQ=DAILY",
            "starts_on": tomorrow.isoformat()}  # fmt: skip
    assert api.post("/api/schedules", body).status_code == 201
    r = api.get("/api/forecast", params={"days": 5, "threshold": "750.00"})
    assert r.status_code == 200, r.text
    f = r.json()
    (acct,) = f["accounts"]
    assert [d["balance"] for d in acct["days"]] == ["1000.00", "900.00", "800.00", "700.00", "600.00", "500.00"]
    assert acct["lowest"] == {"amount": "500.00", "currency": "BRL"}
    assert acct["lowest_on"] == (today + timedelta(days=5)).isoformat()
    assert acct["below_threshold_on"] == (today + timedelta(days=3)).isoformat()
    assert [d["balance"] for d in f["totals"][0]["days"]][-1] == "500.00"
    for bad in ({"days": 0}, {"days": 367}, {"threshold": "abc"}):
        r = api.get("/api/forecast", params=bad)
        assert r.status_code == 422, r.text

    # A schedule that started yesterday is due: the tick asks for its posting, the task posts
    # it once; a second tick in the same slot and a second run add nothing.
    yesterday = today - timedelta(days=1)
    daily = api.post("/api/schedules", {**body, "name": "Coffee", "amount": "-5.00",
                                        "starts_on": yesterday.isoformat()}).json()  # fmt: skip
    runtime = api.client.app.state.runtime

    async def ticks() -> int:
        first = await tick(runtime.backend.schedules, runtime.task_queue, runtime.app.ports.clock)
        await tick(runtime.backend.schedules, runtime.task_queue, runtime.app.ports.clock)
        return first

    # (the session's database is shared: other tests' tenants may have schedules due too)
    assert api.client.blocking_portal.call(ticks) >= 1
    run_background_tasks(api.client)
    posted = api.get("/api/transactions", params={"account_id": checking}).json()["items"]
    assert sorted(t["booked_on"] for t in posted) == [yesterday.isoformat(), today.isoformat()]
    assert {t["description"] for t in posted} == {"Coffee"}
    assert api.get(f"/api/accounts/{checking}").json()["balance"]["amount"] == "990.00"
    detail = api.get(f"/api/schedules/{daily['id']}").json()
    assert [o["due_on"] for o in detail["handled"]] == [yesterday.isoformat(), today.isoformat()]
    assert detail["schedule"]["next_due"] == tomorrow.isoformat()
    api.client.blocking_portal.call(ticks)  # again: nothing more for this tenant
    run_background_tasks(api.client)
    again = api.get("/api/transactions", params={"account_id": checking}).json()["items"]
    assert sorted(t["id"] for t in again) == sorted(t["id"] for t in posted)


def test_subscriptions_are_found_confirmed_and_dismissed(api: Api) -> None:
    card = api.account("Card")
    today = _today()
    for months in range(5):
        day = (today - timedelta(days=30 * months)).isoformat()
        assert api.tx(card, day, "SPOTIFY AB", "-21.90").status_code == 201
        assert api.tx(card, day, "NETFLIX.COM", "-39.90").status_code == 201
    assert api.tx(card, today.isoformat(), "PADARIA REAL", "-12.00").status_code == 201
    found = api.get("/api/subscriptions").json()
    assert len(found) == 2  # the bakery is not one
    netflix = next(f for f in found if "etflix" in f["payee"])
    assert netflix["cadence"] == "monthly"
    assert netflix["confidence"] == "0.83"  # 5 of the 6 charges of a full history, every gap and amount regular
    assert len(netflix["evidence"]) == 5
    r = api.post(f"/api/subscriptions/{netflix['id']}/confirm")
    assert r.status_code == 201, r.text
    confirmed = r.json()
    assert confirmed["subscription"]["status"] == "confirmed"
    assert confirmed["schedule"]["amount"] == {"amount": "-39.90", "currency": "BRL"}
    assert confirmed["schedule"]["next_due"] > today.isoformat()
    assert api.post(f"/api/subscriptions/{netflix['id']}/dismiss").status_code == 409
    other = next(f for f in found if f["id"] != netflix["id"])
    assert api.post(f"/api/subscriptions/{other['id']}/dismiss").status_code == 200
    assert api.get("/api/subscriptions").json() == []
    decided = api.get("/api/subscriptions/decided").json()
    assert sorted(d["status"] for d in decided) == ["confirmed", "dismissed"]
    assert api.post("/api/subscriptions/00000000-0000-7000-8000-000000000001/confirm").status_code == 404


def test_low_balance_alerts_are_set_listed_and_dropped(api: Api) -> None:
    checking = api.account()
    r = api.client.put(
        f"/api/forecast/alerts/{checking}", json={"threshold": "250.00", "days": 60}, headers=api.headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"account_id": checking, "threshold_minor": 25_000, "days": 60}
    assert api.get("/api/forecast/alerts").json() == [r.json()]
    bad = api.client.put(f"/api/forecast/alerts/{checking}", json={"threshold": "1", "days": 0}, headers=api.headers)
    assert bad.status_code == 422
    missing = api.client.put(f"/api/forecast/alerts/{api.tenant_id}", json={"threshold": "1"}, headers=api.headers)
    assert missing.status_code == 404
    assert api.delete(f"/api/forecast/alerts/{checking}").status_code == 204
    assert api.delete(f"/api/forecast/alerts/{checking}").status_code == 404
