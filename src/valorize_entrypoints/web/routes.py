"""The dashboard's routes: the page at ``/``, its files under ``/app/``, and where its live
updates come from (``/app/config.json``). All public: the page holds no data, and every call
it makes to ``/api`` carries the user's bearer token (kept in the tab's ``sessionStorage``; no
cookie, so no request forgery to guard against)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from valorize_entrypoints.settings import Settings
from valorize_entrypoints.web.assets import Asset, AssetStore

__all__ = ["CONTENT_SECURITY_POLICY", "web_routes"]

# The page runs only its own scripts and talks only to its own origin and a WebSocket (the
# realtime server may listen on another port or host). Inline styles: Preact and uPlot set
# element styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _answer(request: Request[Any, Any, Any], asset: Asset, extra: dict[str, str] | None = None) -> Response[bytes]:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "no-cache",  # revalidate each load: a 304 when nothing changed
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers, media_type=asset.media_type)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, status_code=200, headers=headers, media_type=asset.media_type)


def web_routes(settings: Settings, store: AssetStore | None = None) -> list[HTTPRouteHandler]:
    """The dashboard's route handlers; ``settings`` says where the realtime server listens."""
    assets = store or AssetStore()
    config = msgspec.json.encode({
        "pusher_key": settings.pusher_key,
        # where browsers reach the realtime server: a public URL, or this page's host at the port
        "realtime_url": settings.realtime_public_url.rstrip("/") or None,
        "realtime_port": settings.realtime_port,
    })  # fmt: skip

    @get("/", include_in_schema=False, summary="The dashboard")
    async def page(request: Request[Any, Any, Any]) -> Response[bytes]:
        asset = assets.get("index.html")
        assert asset is not None  # shipped with the package
        return _answer(request, asset, {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                        "Referrer-Policy": "no-referrer"})  # fmt: skip

    @get("/app/config.json", include_in_schema=False, summary="Where the dashboard's live updates come from")
    async def app_config() -> Response[bytes]:
        return Response(config, media_type="application/json", headers={"Cache-Control": "no-cache"})

    @get("/app/{path:path}", include_in_schema=False, summary="The dashboard's files")
    async def app_file(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[bytes]:
        asset = assets.get(path.lstrip("/"))
        if asset is None:
            raise NotFoundException(f"no file {path[:100]!r}")
        return _answer(request, asset)

    return [page, app_config, app_file]
