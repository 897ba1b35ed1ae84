"""The worker's ``POST /schedules/tick`` (what Cloud Scheduler calls): trusted callers only; it
enqueues the posting of due occurrences, which the worker then runs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from http_support import Api, run_background_tasks
from litestar.testing import TestClient

from valorize_entrypoints.worker import SECRET_HEADER


def test_the_tick_enqueues_due_postings_for_trusted_callers_only(worker_client: TestClient[Any]) -> None:
    api = Api(worker_client)
    account = api.account()
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    body = {"account_id": account, "name": "Coffee", "amount": "-5.00", "rule": "FREQ=DAILY", "starts_on": yesterday}
    assert api.post("/api/schedules", body).status_code == 201
    assert worker_client.post("/schedules/tick").status_code == 401
    assert worker_client.post("/schedules/tick", headers={SECRET_HEADER: "wrong"}).status_code == 401
    assert worker_client.post("/schedules/tick", headers=api.headers).status_code == 401  # a user's token is not enough
    r = worker_client.post("/schedules/tick", headers={SECRET_HEADER: "s3cret"})
    assert (r.status_code, r.json()) == (200, {"tenants": 1})
    run_background_tasks(worker_client)
    items = api.get("/api/transactions", params={"account_id": account}).json()["items"]
    assert len(items) == 2
    again = worker_client.post("/schedules/tick", headers={SECRET_HEADER: "s3cret"})
    assert again.json() == {"tenants": 0}
    run_background_tasks(worker_client)
    assert len(api.get("/api/transactions", params={"account_id": account}).json()["items"]) == 2
