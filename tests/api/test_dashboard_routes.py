"""The dashboard's page and files as the API serves them: from the package, compressed,
revalidated, nothing outside the static folder, no CDN (the Swagger page included), and
``GET /api/me`` that tells the page who signed in."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.web.assets import AssetStore


@pytest.fixture
def web() -> Iterator[TestClient[Any]]:
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True, realtime_port=6123))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def test_the_page_is_served_at_the_root_with_a_strict_content_security_policy(web: TestClient[Any]) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/app/app.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy  # no inline or foreign scripts


def test_files_are_gzipped_when_asked_and_revalidated_by_etag(web: TestClient[Any]) -> None:
    plain = web.get("/app/app.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in plain.headers
    packed = web.get("/app/app.js", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.text == plain.text  # the client inflates it
    again = web.get("/app/app.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path",
    ["/app/../assets.py", "/app/%2e%2e/routes.py", "/app/pages/../../routes.py", "/app/.hidden", "/app/vendor",
     "/app/nothing.js", "/app/" + "a/" * 150 + "x.js"],
)  # fmt: skip
def test_nothing_outside_the_static_folder_is_served(web: TestClient[Any], path: str) -> None:
    response = web.get(path)
    assert response.status_code == 404, path
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_page_learns_where_the_realtime_server_listens(web: TestClient[Any]) -> None:
    assert web.get("/app/config.json").json() == {
        "pusher_key": "valorize-key", "realtime_url": None, "realtime_port": 6123}  # fmt: skip


def test_a_public_realtime_url_is_checked_and_passed_on() -> None:
    with pytest.raises(ValueError, match="REALTIME_PUBLIC_URL"):
        Settings.from_env({"VALORIZE_REALTIME_PUBLIC_URL": "https://rt.example.com/x"})
    settings = Settings.from_env({"VALORIZE_REALTIME_PUBLIC_URL": "wss://rt.example.com", "VALORIZE_BACKEND": "memory"})
    container = Container()
    container.settings.override(settings)
    with TestClient(create_app(container)) as client:
        assert client.get("/app/config.json").json()["realtime_url"] == "wss://rt.example.com"


def test_the_swagger_page_loads_nothing_from_another_host(web: TestClient[Any]) -> None:
    page = web.get("/schema/swagger").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert urls, page
    assert all(url.startswith("/app/") for url in urls), urls
    for url in urls:
        assert web.get(url).status_code == 200, url


def test_every_vendored_library_ships_with_its_licence() -> None:
    store = AssetStore()
    for folder, licences in {"preact": ["LICENSE-htm", "LICENSE-preact"], "uplot": ["LICENSE"], "pusher": ["LICENSE"],
                             "swagger-ui": ["LICENSE", "NOTICE"]}.items():  # fmt: skip
        for name in licences:
            assert store.get(f"vendor/{folder}/{name}") is not None, (folder, name)
    index = store.get("index.html")
    assert index is not None
    assert index.gzipped is not None
    assert gzip.decompress(index.gzipped) == index.body


def test_me_names_the_calling_tokens_tenant_user_and_role(api: Api) -> None:
    me = api.get("/api/me").json()
    assert me["tenant_id"] == api.tenant_id
    assert me["token_id"] == api.token_id
    assert me["role"] == "owner"
    assert me["name"] == "Ana"
    assert api.client.get("/api/me").status_code == 401
