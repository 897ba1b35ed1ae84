"""The HTTP API (Litestar): thin controllers over the use cases."""

from valorize_entrypoints.api.app import create_app

__all__ = ["create_app"]
