"""Authority in one place: the policy table covers every route, and the authorization matrix —
every route of the built app × {anonymous, another tenant's owner, viewer, member, owner} —
answers as the table says, with no effect on the tenant where it refuses."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from http_support import Api, run_background_tasks
from litestar import Litestar
from litestar.testing import TestClient

from valorize_core.model.listing import TransactionFilter
from valorize_entrypoints.api import create_app
from valorize_entrypoints.api.policy import ACCESS, POLICY, Access, declare_access, route_keys
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

CALLERS = ("anonymous", "foreign", "viewer", "member", "owner")  # refused ones come first
ROLE_RANK = {"viewer": 0, "member": 1, "owner": 2}


@pytest.fixture(params=["memory", "postgres"])
def worker_client(request: pytest.FixtureRequest) -> Iterator[TestClient[Any]]:
    """The API with the worker's routes mounted too (a one-process run): every route there is."""
    if request.param == "memory":
        settings = Settings(backend="memory", log_json=True)
    else:
        settings = Settings(backend="postgres", database_url=request.getfixturevalue("database_url"), db_pool_max=4)
    container = Container()
    container.settings.override(settings)
    with TestClient(create_app(container, include_worker=True), raise_server_exceptions=False) as test_client:
        yield test_client


def _app() -> Litestar:
    container = Container()
    container.settings.override(Settings(backend="memory"))
    return create_app(container, include_worker=True)


# -- the table -------------------------------------------------------------------------------


def test_every_route_has_a_policy_entry_and_every_entry_a_route() -> None:
    app = _app()
    keys = {key for key, _ in route_keys(app)}
    assert declare_access(app) == [], "routes without an entry in api/policy.py POLICY"
    assert all(isinstance(handler.opt.get(ACCESS), Access) for _, handler in route_keys(app))
    stale = {k for k in POLICY if k != "OPTIONS *"} - keys
    assert stale == set(), "entries of api/policy.py POLICY that match no route"


def test_a_route_without_an_entry_is_refused_and_reported() -> None:
    from litestar import WebSocket, get, websocket

    @get("/api/unlisted", sync_to_thread=False)
    def unlisted() -> dict[str, str]:
        return {}

    @websocket("/api/unlisted/socket")
    async def socket(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.close()

    app = _app()
    app.register(unlisted)
    app.register(socket)
    assert sorted(declare_access(app)) == ["GET /api/unlisted", "WEBSOCKET /api/unlisted/socket"]
    with TestClient(app) as client:
        assert client.get("/api/unlisted").status_code == 403


def test_routes_that_write_need_at_least_a_member() -> None:
    for key, handler in route_keys(_app()):
        if "writer" in handler.parsed_fn_signature.parameters:
            assert handler.opt[ACCESS] in {Access.MEMBER, Access.OWNER}, key


def test_cached_reads_are_routes_any_token_may_read() -> None:
    from valorize_entrypoints.api.caching import CACHED_READ

    for key, handler in route_keys(_app()):
        if handler.opt.get(CACHED_READ):
            assert handler.opt[ACCESS] is Access.VIEWER, key


# -- the tenant the matrix runs against -----------------------------------------------------


@dataclass
class World:
    """Tenant A with one of each object, tokens of each role, and another tenant's owner."""

    client: TestClient[Any]
    owner: Api
    tokens: dict[str, str | None] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, caller: str, method: str, path: str, **kw: Any) -> Any:
        token = self.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, path, headers=headers, **kw)

    def snapshot(self) -> dict[str, Any]:
        """Everything of tenant A a refused request could have touched."""
        runtime = self.client.app.state.runtime
        tenant = uuid.UUID(self.owner.tenant_id)

        async def read() -> dict[str, Any]:
            async with runtime.app.ports.uow(tenant) as uow:
                return {
                    "accounts": await uow.accounts.list(),
                    "categories": await uow.categories.list(),
                    "transactions": await uow.transactions.all(TransactionFilter()),
                    "budgets": await uow.budgets.list(),
                    "rules": await uow.rules.list(),
                    "schedules": await uow.schedules.list(),
                    "subscriptions": await uow.subscriptions.list(),
                    "balance_alerts": await uow.balance_alerts.list(),
                    "suggestions": await uow.rule_suggestions.list(),
                    "notifications": await uow.notifications.list(200),
                    "tokens": await uow.identity.list_tokens(),
                    "members": await uow.identity.list_members(),
                }

        return client_call(self.client, read)


def client_call(client: TestClient[Any], fn: Callable[[], Any]) -> Any:
    return client.blocking_portal.call(fn)


def _token(owner: Api, role: str) -> str:
    r = owner.post("/api/members", {"email": f"{uuid.uuid4().hex}@example.com", "name": role.title(), "role": role})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def build_world(client: TestClient[Any]) -> World:
    owner = Api(client)
    world = World(client, owner)
    world.tokens = {
        "anonymous": None,
        "foreign": Api(client).token,
        "viewer": _token(owner, "viewer"),
        "member": _token(owner, "member"),
        "owner": owner.token,
    }
    ids = world.ids
    ids["account_id"] = owner.account("Checking")
    ids["other_account"] = owner.account("Savings")
    ids["category_id"] = owner.category("Fuel")
    ids["groceries"] = owner.category("Groceries")
    for day in ("2026-11-01", "2026-11-08", "2026-11-15"):  # three agreeing corrections: a suggestion
        tx = owner.tx(ids["account_id"], day, f"POSTO IPIRANGA {day[-2:]}/11", "-120.00").json()
        assert owner.post(f"/api/transactions/{tx['id']}/category", {"category_id": ids["category_id"]}).status_code
    ids["transaction_id"] = tx["id"]
    (suggestion,) = owner.get("/api/rules/suggestions?status=pending").json()
    ids["suggestion_id"] = suggestion["id"]
    budget = {"category_id": ids["category_id"], "limit": "500.00", "currency": "BRL"}
    ids["budget_id"] = owner.post("/api/budgets", budget).json()["id"]
    ids["rule_id"] = owner.post("/api/rules", _rule(ids)).json()["id"]
    ids["schedule_id"] = owner.post("/api/schedules", _schedule(ids)).json()["id"]
    today = datetime.now(UTC).date()
    for months in range(4):  # a monthly charge: a subscription found
        owner.tx(ids["other_account"], (today - timedelta(days=30 * months)).isoformat(), "NETFLIX.COM", "-39.90")
    (found,) = owner.get("/api/subscriptions").json()
    ids["subscription_id"] = found["id"]
    job = owner.post("/api/reports", {"kind": "cash_flow", "start": "2026-11-01", "end": "2026-11-30"})
    ids["job_id"] = job.json()["id"]
    run_background_tasks(client)
    ids["notification_id"] = owner.get("/api/notifications").json()[0]["id"]
    upload = owner.client.post("/api/imports", headers=owner.headers, **_statement(ids))
    assert upload.status_code == 202, upload.text
    ids["import_id"] = upload.json()["id"]
    spare = owner.post("/api/tokens", {"name": "spare", "role": "owner"}).json()
    ids["token_id"] = spare["details"]["id"]
    victim = owner.post("/api/members", {"email": f"{uuid.uuid4().hex}@example.com", "name": "Vi", "role": "member"})
    ids["user_id"] = victim.json()["member"]["user_id"]
    hook = owner.post("/api/webhooks", {"url": "https://93.184.216.34/hook", "event_types": ["report.ready"]})
    assert hook.status_code == 201, hook.text
    ids["webhook_id"] = hook.json()["id"]
    assert owner.patch(f"/api/webhooks/{ids['webhook_id']}", {"enabled": False}).status_code == 200  # sends nothing
    ids["delivery_id"] = str(uuid.uuid4())  # none exists: the redelivery route answers 404 (below)
    ids["tenant_channel"] = f"private-tenant.{owner.tenant_id}"
    ids.update(kind="cash_flow", app_id="app", channel="private-tenant.x", name="evaluate_budgets", path="nothing")
    return world


def _rule(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "Fuel",
        "conditions": {
            "match": "all",
            "conditions": [{"field": "description", "operator": "contains", "value": "POSTO"}],
        },
        "actions": [{"type": "set_category", "category_id": ids["category_id"]}],
    }


def _schedule(ids: dict[str, str]) -> dict[str, Any]:
    return {"account_id": ids["account_id"], "name": "Rent", "amount": "-900.00", "rule": "FREQ=MONTHLY",
            "starts_on": "2030-01-31"}  # fmt: skip


_ARCHIVE = b'{"format":"valorize-archive","version":2,"tenant":{"name":"x"}}\n{"type":"end","counts":{}}\n'


def _statement(ids: dict[str, str]) -> dict[str, Any]:
    csv = b"date,description,amount\n2026-11-20,PADARIA,-12.00\n"
    mapping = '{"date_column": "date", "description_column": "description", "amount_column": "amount"}'
    return {
        "files": {"file": ("s.csv", csv, "text/csv")},
        "data": {"account_id": ids["account_id"], "format": "csv", "mapping": mapping},
    }


def _email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


# What each route is sent: a request its allowed callers can carry out on tenant A's objects.
BODIES: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "POST /api/signup": lambda ids: {"json": {"tenant_name": "Other", "email": _email(), "name": "Zé"}},
    "POST /api/tokens": lambda ids: {"json": {"name": "extra", "role": "viewer"}},
    "POST /api/members": lambda ids: {"json": {"email": _email(), "name": "New", "role": "viewer"}},
    "PATCH /api/members/{user_id}": lambda ids: {"json": {"role": "viewer"}},
    "POST /api/accounts": lambda ids: {"json": {"name": "Cash", "kind": "cash", "currency": "BRL"}},
    "PATCH /api/accounts/{account_id}": lambda ids: {"json": {"name": "Main"}},
    "POST /api/categories": lambda ids: {"json": {"name": "Food", "kind": "expense"}},
    "PATCH /api/categories/{category_id}": lambda ids: {"json": {"name": "Gas"}},
    "POST /api/transactions": lambda ids: {
        "json": {"account_id": ids["account_id"], "booked_on": "2026-11-21", "description": "X", "amount": "-1.00"}
    },
    "POST /api/transactions/categorize": lambda ids: {"json": {"account_id": ids["account_id"]}},
    "PATCH /api/transactions/{transaction_id}": lambda ids: {"json": {"description": "POSTO IPIRANGA 16/11"}},
    "POST /api/transactions/{transaction_id}/category": lambda ids: {"json": {"category_id": ids["category_id"]}},
    "POST /api/transactions/suggestions": lambda ids: {"json": {"transaction_ids": [ids["transaction_id"]]}},
    "POST /api/transactions/corrections": lambda ids: {
        "json": {"corrections": [{"transaction_id": ids["transaction_id"], "category_id": ids["category_id"]}]}
    },
    "POST /api/transfers": lambda ids: {
        "json": {
            "from_account_id": ids["account_id"],
            "to_account_id": ids["other_account"],
            "amount": "5.00",
            "booked_on": "2026-11-21",
        }
    },
    "POST /api/budgets": lambda ids: {"json": {"category_id": ids["groceries"], "limit": "9.00", "currency": "BRL"}},
    "PATCH /api/budgets/{budget_id}": lambda ids: {
        "json": {"category_id": ids["category_id"], "limit": "600.00", "currency": "BRL"}
    },
    "POST /api/rules": lambda ids: {"json": _rule(ids)},
    "PATCH /api/rules/{rule_id}": lambda ids: {"json": {"name": "Fuel too"}},
    "POST /api/rules/preview": lambda ids: {"json": _rule(ids)},
    "POST /api/rules/apply": lambda ids: {"json": {}},
    "GET /api/reports/{kind}": lambda ids: {"params": {"start": "2026-11-01", "end": "2026-11-30"}},
    "GET /api/exports/transactions/ofx": lambda ids: {"params": {"account_id": ids["account_id"]}},
    "GET /api/exports/reports/{kind}": lambda ids: {"params": {"start": "2026-11-01", "end": "2026-11-30"}},
    "POST /api/reports": lambda ids: {"json": {"kind": "net_worth", "start": "2026-11-01", "end": "2026-11-30"}},
    "POST /api/imports": _statement,
    "PATCH /api/settings": lambda ids: {"json": {"reporting_currency": "BRL"}},
    "GET /api/rates": lambda ids: {"params": {"date_from": "2026-11-01", "date_to": "2026-11-30"}},
    "POST /api/rates": lambda ids: {
        "json": {"rates": [{"base": "EUR", "quote": "BRL", "on": "2026-11-20", "rate": "6.1"}]}
    },
    "POST /api/rates/ecb": lambda ids: {"files": {"file": ("r.csv", b"Date, BRL\n2026-11-20, 6.1\n", "text/csv")}},
    "POST /api/schedules": lambda ids: {"json": _schedule(ids)},
    "PATCH /api/schedules/{schedule_id}": lambda ids: {"json": {"active": False}},
    "PUT /api/forecast/alerts/{account_id}": lambda ids: {"json": {"threshold": "100.00", "days": 60}},
    "POST /api/restore": lambda ids: {"files": {"archive": ("b.jsonl", _ARCHIVE, "application/x-ndjson")}},
    "POST /api/webhooks": lambda ids: {"json": {"url": "https://93.184.216.34/other", "event_types": ["report.ready"]}},
    "PATCH /api/webhooks/{webhook_id}": lambda ids: {"json": {"event_types": ["job.completed"]}},
    "POST /api/imports/mapping-suggestion": lambda ids: {
        "files": {"file": ("x.csv", b"date;text;amount\n2026-11-01;Bread;-1,00\n", "text/csv")}
    },
    "POST /broadcasting/auth": lambda ids: {"data": {"socket_id": "1.2", "channel_name": ids["tenant_channel"]}},
    "POST /broadcasting/user-auth": lambda ids: {"data": {"socket_id": "1.2"}},
    "POST /tasks/{name}": lambda ids: {"json": {"tenant_id": "00000000-0000-0000-0000-000000000000", "payload": {}}},
}

# Routes whose body names tenant A's objects: another tenant's owner gets them as unknown, and
# may not join tenant A's channel.
_UNKNOWN = (404, 422)
FOREIGN_STATUS = {
    "POST /api/transactions": _UNKNOWN,
    "POST /api/transactions/categorize": _UNKNOWN,
    "POST /api/transactions/corrections": _UNKNOWN,
    "POST /api/transactions/suggestions": _UNKNOWN,
    "POST /api/transfers": _UNKNOWN,
    "POST /api/budgets": _UNKNOWN,
    "POST /api/imports": _UNKNOWN,
    "POST /api/schedules": _UNKNOWN,
    "GET /api/exports/transactions/ofx": _UNKNOWN,
    "POST /broadcasting/auth": (403,),
}

# The first allowed caller of a route gets a 2xx, but for these (the objects are in use).
FIRST_ALLOWED_OTHERWISE = {
    "DELETE /api/categories/{category_id}": 409,  # rules assign it
    "DELETE /api/accounts/{account_id}": 409,  # it has transactions
    "GET /schema/{path}": 404,  # no such document
    "GET /app/{path}": 404,  # no such file (the dashboard's files: tests/api/test_dashboard_routes.py)
    "POST /api/webhooks/deliveries/{delivery_id}/redeliver": 404,  # no delivery: the endpoint is disabled
    "POST /api/restore": 409,  # the tenant holds data
    "POST /api/rules/suggestions/{suggestion_id}/dismiss": 409,  # the accept route took it before
    "POST /api/subscriptions/{subscription_id}/confirm": 409,  # the other decision took it before
    "POST /api/subscriptions/{subscription_id}/dismiss": 409,
}

# Order: reads and creations first, then edits, then deletions (an account last, once empty).
DELETE_ORDER = ["transaction", "budget", "rule", "schedule", "category", "members", "account"]


def _order(key: str) -> tuple[int, int]:
    method, path = key.split(" ", 1)
    if method != "DELETE":
        return (0 if method in {"GET", "POST"} else 1, 0)
    return (2, next((i for i, name in enumerate(DELETE_ORDER) if name in path), 0))


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def _expected(access: Access, caller: str, key: str) -> str:
    """``allowed``, or the refusal: ``401``, ``403``, ``404`` (another tenant's objects) or
    ``own-proof`` (the route checks its own credentials: a bearer token gives nothing)."""
    if access is Access.PUBLIC:
        return "allowed"
    if access.role is None:
        return "own-proof"
    if caller == "anonymous":
        return "401"
    if caller == "foreign":
        return "404" if "{" in key and "{kind}" not in key else "elsewhere"
    return "allowed" if ROLE_RANK[caller] >= ROLE_RANK[access.role.value] else "403"


def test_the_authorization_matrix(worker_client: TestClient[Any]) -> None:
    world = build_world(worker_client)
    routes = sorted(
        ((k, h) for k, h in route_keys(worker_client.app) if not k.startswith("OPTIONS ")), key=lambda kh: _order(kh[0])
    )
    assert len(routes) > 60
    failures: list[str] = []
    for key, handler in routes:
        access: Access = handler.opt[ACCESS]
        method, template = key.split(" ", 1)
        path = _fill(template, world.ids)
        own_proof_status: int | None = None
        first_allowed = True
        for caller in CALLERS:
            expected = _expected(access, caller, key)
            kw = BODIES[key](world.ids) if key in BODIES else {"json": {}} if method in {"POST", "PATCH"} else {}
            before = world.snapshot() if expected != "allowed" else None
            r = world.call(caller, method, path, **kw)
            status = r.status_code
            ok = {
                "allowed": status < 500 and status not in (401, 403),
                "elsewhere": status < 500 and status not in (401, 403),
                "401": status == 401,
                "403": status == 403,
                "404": status == 404,
                "own-proof": status in (401, 404) and status == (own_proof_status or status),
            }[expected]
            if caller == "foreign" and key in FOREIGN_STATUS:
                ok = status in FOREIGN_STATUS[key]
            if expected == "allowed" and first_allowed:
                first_allowed = False  # it acted on a real object of the tenant (later ones may find it gone)
                ok = ok and (200 <= status < 300 or status == FIRST_ALLOWED_OTHERWISE.get(key))
            if expected == "own-proof":
                own_proof_status = status
            if not ok:
                failures.append(f"{key} as {caller}: {status}, expected {expected}: {r.text[:200]}")
            if before is not None and world.snapshot() != before:
                failures.append(f"{key} as {caller} ({status}) changed the tenant")
            if expected in {"401", "403", "404"} and status in (401, 403, 404):
                assert r.headers["content-type"].startswith("application/problem+json"), key
    assert not failures, "\n".join(failures)
    # the allowed calls reached real objects: the tenant's owner still works, the victim is gone
    assert world.call("owner", "GET", "/api/accounts").status_code == 200
    members = world.call("owner", "GET", "/api/members").json()
    assert world.ids["user_id"] not in {m["user_id"] for m in members}


def test_the_table_says_what_the_issue_says() -> None:
    """Independent of the matrix (which checks the app does what the table says): the table
    itself — public routes, reads for every token (the two reads sent as POST bodies among
    them: a rule preview and suggestions for many transactions), writes for members; tokens,
    members, the tenant's settings, webhooks (they send the tenant's data out and hold signing
    secrets) and backup and restore (the whole tenant) for owners."""
    public = {k for k, v in POLICY.items() if v is Access.PUBLIC}
    assert public == {
        "GET /health", "GET /ready", "GET /metrics", "GET /schema", "GET /schema/openapi.json", "GET /schema/swagger",
        "GET /schema/oauth2-redirect.html", "GET /schema/{path}", "OPTIONS *", "POST /api/signup",
        "GET /", "GET /app/config.json", "GET /app/{path}",  # the dashboard's page and files: no data
    }  # fmt: skip
    for key, access in POLICY.items():
        method, path = key.split(" ", 1)
        if not path.startswith("/api/") or key == "POST /api/signup":
            continue
        owners = ("/api/tokens", "/api/members", "/api/webhooks", "/api/backup", "/api/restore")
        if path.startswith(owners) or key == "PATCH /api/settings":
            assert access is Access.OWNER, key
        elif method == "GET" or key in ("POST /api/rules/preview", "POST /api/transactions/suggestions"):
            assert access is Access.VIEWER, key
        else:
            assert access is Access.MEMBER, key
    assert POLICY["POST /tasks/{name}"] is Access.WORKER
    assert {k for k, v in POLICY.items() if v is Access.PUSHER} == {
        k for k in POLICY if k.split(" ", 1)[1].startswith("/apps/")
    } | {"POST /users/{user_id}/terminate_connections"}  # the Python SDK's path for it
