"""Access and query checks run as the app's ``before_request`` hook, not as Litestar guards
(which copy the route handler on every request), and no route can escape them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import litestar.handlers.base as handlers_base
import pytest
from http_support import Api
from litestar import Litestar, Request, get, websocket
from litestar.connection import WebSocket
from litestar.handlers.base import BaseRouteHandler
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.api.route_checks import check_route, require_http_routes
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture
def memory_api() -> Iterator[Api]:
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client)


def test_a_request_copies_no_route_handler(memory_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[Any] = []

    def counting(value: Any) -> Any:
        if isinstance(value, BaseRouteHandler):
            copied.append(value)
        return copy.copy(value)

    monkeypatch.setattr(handlers_base, "copy", counting)
    account = memory_api.account()
    assert memory_api.get("/api/transactions", params={"account_id": account}).status_code == 200
    assert memory_api.get("/api/transactions", params={"acount_id": account}).status_code == 422
    assert memory_api.client.get("/api/accounts").status_code == 401
    assert copied == []


async def _own_hook(request: Request[Any, Any, Any]) -> None:
    return None


@get("/own", before_request=_own_hook, sync_to_thread=False)
def _with_own_hook() -> str:
    return "unchecked"


@get("/plain", sync_to_thread=False)
def _plain() -> str:
    return "checked"


@websocket("/socket")
async def _socket(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.close()


def test_routes_the_hook_would_not_run_for_are_refused() -> None:
    require_http_routes(Litestar([_plain], before_request=check_route))
    with pytest.raises(ValueError, match="/own"):
        require_http_routes(Litestar([_plain, _with_own_hook], before_request=check_route))
    with pytest.raises(ValueError, match="/socket"):
        require_http_routes(Litestar([_plain, _socket], before_request=check_route))
    with pytest.raises(ValueError, match="/plain"):
        require_http_routes(Litestar([_plain]))
