"""Who may call what: one table, every route of the API, enforced by one check.

Each route (method and path template) names the least :class:`Access` it needs. The app's
check, :func:`enforce_access` (run by ``api/route_checks.py`` before every route), runs before a
route parses anything: it answers 401 without a
valid token and 403 for a token whose role is below the route's. Routes that prove their
caller another way — the worker's ``/tasks/*`` (Cloud Tasks' OIDC token or the dispatcher's
secret) and the Pusher HTTP API (its request signature) — say so here, and a bearer token gives
nothing there. A route missing from the table is refused (403) and fails
``tests/api/test_authorization.py``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, cast

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import ASGIRoute, HTTPRoute, WebSocketRoute

from valorize_core.model.errors import PermissionDenied
from valorize_core.model.identity import Role
from valorize_entrypoints.api.asgi import Scope
from valorize_entrypoints.api.auth import Actor, authenticated

__all__ = ["ACCESS", "POLICY", "Access", "declare_access", "enforce_access", "permits", "route_keys"]

ACCESS = "access"  # the key of a route handler's ``opt`` that holds its Access


class Access(enum.Enum):
    """The least a caller needs: nothing, a token of a role, or the route's own proof."""

    PUBLIC = "public"  # no credentials
    VIEWER = "viewer"  # any valid token of the tenant (every role reads)
    MEMBER = "member"  # a member or owner token (writes)
    OWNER = "owner"  # an owner token (tokens and members)
    WORKER = "worker"  # the route verifies Cloud Tasks' OIDC token or the local dispatcher's secret
    PUSHER = "pusher"  # the route verifies the Pusher HTTP API request signature

    @property
    def role(self) -> Role | None:
        """The token role it needs, or ``None`` when no bearer token is involved."""
        return _ROLE.get(self)


_ROLE = {Access.VIEWER: Role.VIEWER, Access.MEMBER: Role.MEMBER, Access.OWNER: Role.OWNER}

PUBLIC, VIEWER, MEMBER, OWNER = Access.PUBLIC, Access.VIEWER, Access.MEMBER, Access.OWNER

POLICY: Mapping[str, Access] = MappingProxyType({
    # operations and documentation
    "GET /health": PUBLIC,
    "GET /ready": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /schema": PUBLIC,
    "GET /schema/openapi.json": PUBLIC,
    "GET /schema/swagger": PUBLIC,
    "GET /schema/oauth2-redirect.html": PUBLIC,
    "GET /schema/{path}": PUBLIC,
    "OPTIONS *": PUBLIC,
    # the dashboard's page and files (no data: its calls to /api carry the user's token)
    "GET /": PUBLIC,
    "GET /app/config.json": PUBLIC,
    "GET /app/{path}": PUBLIC,  # Litestar's own answer to OPTIONS on every path: the Allow header only
    # identity
    "POST /api/signup": PUBLIC,
    "GET /api/me": VIEWER,
    "GET /api/tokens": OWNER,
    "POST /api/tokens": OWNER,
    "POST /api/tokens/{token_id}/revoke": OWNER,
    "GET /api/members": OWNER,
    "POST /api/members": OWNER,
    "PATCH /api/members/{user_id}": OWNER,
    "DELETE /api/members/{user_id}": OWNER,
    # accounts and categories
    "GET /api/accounts": VIEWER,
    "POST /api/accounts": MEMBER,
    "GET /api/accounts/{account_id}": VIEWER,
    "PATCH /api/accounts/{account_id}": MEMBER,
    "DELETE /api/accounts/{account_id}": MEMBER,
    "GET /api/categories": VIEWER,
    "POST /api/categories": MEMBER,
    "PATCH /api/categories/{category_id}": MEMBER,
    "DELETE /api/categories/{category_id}": MEMBER,
    # transactions and transfers
    "GET /api/transactions": VIEWER,
    "POST /api/transactions": MEMBER,
    "POST /api/transactions/categorize": MEMBER,
    "GET /api/transactions/{transaction_id}": VIEWER,
    "PATCH /api/transactions/{transaction_id}": MEMBER,
    "DELETE /api/transactions/{transaction_id}": MEMBER,
    "POST /api/transactions/{transaction_id}/category": MEMBER,
    "POST /api/transactions/corrections": MEMBER,
    "GET /api/transactions/{transaction_id}/suggestions": VIEWER,
    "POST /api/transactions/suggestions": VIEWER,
    "POST /api/transfers": MEMBER,
    # budgets, rules, reports
    "GET /api/budgets": VIEWER,
    "POST /api/budgets": MEMBER,
    "PATCH /api/budgets/{budget_id}": MEMBER,
    "DELETE /api/budgets/{budget_id}": MEMBER,
    "GET /api/budgets/status": VIEWER,
    "GET /api/budgets/{budget_id}/status": VIEWER,
    "GET /api/rules": VIEWER,
    "POST /api/rules": MEMBER,
    "PATCH /api/rules/{rule_id}": MEMBER,
    "DELETE /api/rules/{rule_id}": MEMBER,
    "POST /api/rules/preview": VIEWER,  # a dry run: reads only
    "POST /api/rules/apply": MEMBER,
    "GET /api/rules/suggestions": VIEWER,
    "POST /api/rules/suggestions/{suggestion_id}/accept": MEMBER,
    "POST /api/rules/suggestions/{suggestion_id}/dismiss": MEMBER,
    "GET /api/reports/{kind}": VIEWER,
    "POST /api/reports": MEMBER,
    # exchange rates (the global defaults are the operator's: `valorize import-rates`, no route)
    "GET /api/rates": VIEWER,
    "POST /api/rates": MEMBER,
    "POST /api/rates/ecb": MEMBER,
    "GET /api/settings": VIEWER,
    "PATCH /api/settings": OWNER,  # the tenant's reporting currency changes every member's reports
    # schedules, the forecast, subscriptions
    "GET /api/schedules": VIEWER,
    "POST /api/schedules": MEMBER,
    "GET /api/schedules/{schedule_id}": VIEWER,
    "PATCH /api/schedules/{schedule_id}": MEMBER,
    "DELETE /api/schedules/{schedule_id}": MEMBER,
    "GET /api/forecast": VIEWER,
    "GET /api/forecast/alerts": VIEWER,
    "PUT /api/forecast/alerts/{account_id}": MEMBER,
    "DELETE /api/forecast/alerts/{account_id}": MEMBER,
    "GET /api/subscriptions": VIEWER,
    "GET /api/subscriptions/decided": VIEWER,
    "POST /api/subscriptions/{subscription_id}/confirm": MEMBER,
    "POST /api/subscriptions/{subscription_id}/dismiss": MEMBER,
    # imports, jobs, notifications
    "POST /api/imports": MEMBER,
    "GET /api/imports/{import_id}": VIEWER,
    "POST /api/imports/mapping-suggestion": MEMBER,
    "GET /api/imports/presets": VIEWER,
    # outbound webhooks: owners (they send the tenant's data out and hold signing secrets)
    "GET /api/webhooks": OWNER,
    "POST /api/webhooks": OWNER,
    "PATCH /api/webhooks/{webhook_id}": OWNER,
    "DELETE /api/webhooks/{webhook_id}": OWNER,
    "POST /api/webhooks/{webhook_id}/rotate-secret": OWNER,
    "GET /api/webhooks/{webhook_id}/deliveries": OWNER,
    "POST /api/webhooks/deliveries/{delivery_id}/redeliver": OWNER,
    # backup and restore of the whole tenant: owners
    "GET /api/backup": OWNER,
    "POST /api/restore": OWNER,
    # exports
    "GET /api/exports/transactions": VIEWER,
    "GET /api/exports/transactions/ofx": VIEWER,
    "GET /api/exports/reports/{kind}": VIEWER,
    "GET /api/jobs/{job_id}": VIEWER,
    "GET /api/notifications": VIEWER,
    "POST /api/notifications/{notification_id}/read": MEMBER,
    # realtime
    "POST /broadcasting/auth": VIEWER,  # signs only the caller's own tenant and user channels
    "POST /apps/{app_id}/events": Access.PUSHER,
    "POST /apps/{app_id}/batch_events": Access.PUSHER,
    "GET /apps/{app_id}/channels": Access.PUSHER,
    "GET /apps/{app_id}/channels/{channel}": Access.PUSHER,
    "GET /apps/{app_id}/channels/{channel}/users": Access.PUSHER,
    "POST /apps/{app_id}/users/{user_id}/terminate_connections": Access.PUSHER,
    "POST /users/{user_id}/terminate_connections": Access.PUSHER,  # the Python SDK's path
    "POST /broadcasting/user-auth": VIEWER,  # signs only the caller's own user
    # the worker (mounted in the API only in one-process runs)
    "POST /tasks/{name}": Access.WORKER,
    "POST /schedules/tick": Access.WORKER,  # Cloud Scheduler's call
})  # fmt: skip

_TYPED_PARAM = re.compile(r"\{(\w+):\w+\}")


def route_keys(app: Litestar) -> Iterator[tuple[str, BaseRouteHandler]]:
    """Every route handler of ``app`` with its policy key: ``"METHOD /path/{param}"``, or
    ``"WEBSOCKET /path"`` and ``"ASGI /path"`` for the other kinds (the API has none today)."""
    for route in app.routes:
        path = _TYPED_PARAM.sub(r"{\1}", route.path)
        if isinstance(route, HTTPRoute):
            for method, (handler, _) in route.route_handler_map.items():
                yield f"{method} {path}", handler
        elif isinstance(route, (WebSocketRoute, ASGIRoute)):
            yield f"{route.scope_type.value.upper()} {path}", route.route_handler


def _lookup(key: str) -> Access | None:
    found = POLICY.get(key)
    if found is None and key.startswith("OPTIONS "):
        found = POLICY.get("OPTIONS *")
    return found


def declare_access(app: Litestar) -> list[str]:
    """Mark every route handler of ``app`` with its entry of :data:`POLICY`; return the keys of
    routes that have none (the guard refuses them)."""
    missing: list[str] = []
    for key, handler in route_keys(app):
        access = _lookup(key)
        if access is None:
            missing.append(key)
            continue
        if handler.opt.get(ACCESS, access) is not access:  # one handler, two paths, two policies
            raise ValueError(f"{key} and another path of its handler have different policies")
        handler.opt[ACCESS] = access
    return missing


def permits(handler: BaseRouteHandler, actor: Actor) -> bool:
    """Whether ``actor``'s token is enough for the route (a public route needs none)."""
    access: Access | None = handler.opt.get(ACCESS)
    if access is None:
        return False
    needed = access.role
    return needed is None or actor.role.covers(needed)


async def enforce_access(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app's access check (``api/route_checks.py``): 401 without a valid token, 403 below the
    route's role."""
    access: Access | None = handler.opt.get(ACCESS)
    if access is None:
        raise PermissionDenied("this route has no access policy")
    needed = access.role
    if needed is None:
        return
    actor = await authenticated(cast("Scope", connection.scope), connection.app.state.runtime.app)
    if not actor.role.covers(needed):
        raise PermissionDenied(f"this needs a {needed} token; this one is a {actor.role} token")
