"""Entrypoints: the HTTP API (Litestar), the task worker, the realtime server, the CLI and the
composition root (``container.py``) that gives each role its adapters and long-running jobs."""
