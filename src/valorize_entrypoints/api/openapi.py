"""The OpenAPI document states every constraint the API enforces on bodies.

Request and response bodies are msgspec Structs, validated by msgspec. Litestar writes their
component schemas itself and drops what sits inside containers — ``thresholds`` showed
``items: {type: integer}`` although msgspec refuses anything outside 1..1000, and tags their
pattern — and does not say that unknown fields are refused. So each Struct's component is
replaced by msgspec's own JSON Schema of it (``msgspec.json.schema_components``): the document
is derived from the validator, and cannot say less than it enforces. Parameters (path, query)
keep Litestar's schemas, which carry their constraints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

__all__ = ["ConstrainedJsonRenderPlugin", "ConstrainedSwaggerRenderPlugin", "local_swagger", "with_msgspec_components"]

_REF = "#/components/schemas/{name}"


def _structs(root: type[msgspec.Struct] = msgspec.Struct) -> Iterator[type[msgspec.Struct]]:
    for sub in root.__subclasses__():
        if sub.__module__.startswith("valorize_entrypoints."):
            yield sub
        yield from _structs(sub)


def with_msgspec_components(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (changed in place) whose components named after the API's Structs are
    msgspec's schemas of them, plus what a Struct states across its fields in a class attribute
    ``json_schema_extra`` (``not``: fields that may not come together)."""
    components = document.get("components", {}).get("schemas", {})
    wanted = [struct for struct in _structs() if struct.__name__ in components]
    if not wanted:
        return document
    _, generated = msgspec.json.schema_components(wanted, ref_template=_REF)
    for struct in wanted:
        extra = getattr(struct, "json_schema_extra", None)
        if extra and struct.__name__ in generated:
            generated[struct.__name__].update(extra)
    components.update(generated)
    return document


class _Constrained:
    """Renders the document with msgspec's component schemas (computed once per document)."""

    _done: int | None = None

    def render_json(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._done != id(openapi_schema):
            with_msgspec_components(openapi_schema)
            self._done = id(openapi_schema)
        return JsonRenderPlugin.render_json(request, openapi_schema)


class ConstrainedJsonRenderPlugin(_Constrained, JsonRenderPlugin):
    """``/schema/openapi.json`` with every body constraint."""


class ConstrainedSwaggerRenderPlugin(_Constrained, SwaggerRenderPlugin):
    """Swagger UI over the same document."""


_VENDOR = "/app/vendor/swagger-ui/"


def local_swagger() -> ConstrainedSwaggerRenderPlugin:
    """The Swagger page with its scripts and styles served by the API itself (the package ships
    ``swagger-ui-dist``; Litestar's default loads them from a CDN, a blank page offline)."""
    return ConstrainedSwaggerRenderPlugin(
        js_url=_VENDOR + "swagger-ui-bundle.js",
        css_url=_VENDOR + "swagger-ui.css",
        standalone_preset_js_url=_VENDOR + "swagger-ui-standalone-preset.js",
        favicon="<link rel='icon' type='image/svg+xml' href='/app/favicon.svg'>",
    )
