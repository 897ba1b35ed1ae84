"""The dashboard's files, read from the package once and kept gzip-compressed in memory.

Everything the browser loads ships in ``web/static`` (the wheel carries it): the page, its
modules, and the vendored libraries (``static/vendor/README.md`` lists them with their
licences). Nothing is fetched from a CDN. A file is read and compressed on its first request
and answered from memory after that, with a strong ``ETag`` so a revisit costs a 304.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from importlib import resources

__all__ = ["Asset", "AssetStore"]

_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain",
    ".md": "text/plain",
}
_COMPRESSIBLE = ("text/", "image/svg", "application/json")
_MAX_PATH = 200


@dataclass(frozen=True, slots=True)
class Asset:
    """One file: its bytes, their gzip form (``None`` when it would not shrink) and validators."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


class AssetStore:
    """The files under one package directory, by relative path; unknown paths are ``None``."""

    def __init__(self, package: str = "valorize_entrypoints.web", directory: str = "static") -> None:
        self._root = resources.files(package).joinpath(directory)
        self._cache: dict[str, Asset | None] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> Asset | None:
        """The asset at ``path`` (``a/b.js``), or ``None`` for anything that is not a shipped file."""
        if path in self._cache:
            return self._cache[path]
        asset = self._load(path)
        with self._lock:
            if len(self._cache) < 1000 or asset is not None:  # unknown paths are remembered only while few
                self._cache[path] = asset
        return asset

    def _load(self, path: str) -> Asset | None:
        parts = path.split("/")
        if not path or len(path) > _MAX_PATH or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return None
        node = self._root
        for part in parts:
            node = node.joinpath(part)
        if not node.is_file():
            return None
        body = node.read_bytes()
        suffix = "." + parts[-1].rsplit(".", 1)[-1] if "." in parts[-1] else ""
        media_type = _TYPES.get(suffix) or mimetypes.guess_type(parts[-1])[0] or "application/octet-stream"
        gzipped = None
        if media_type.startswith(_COMPRESSIBLE):
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            gzipped = packed if len(packed) < len(body) else None
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return Asset(body, gzipped, media_type, etag)
