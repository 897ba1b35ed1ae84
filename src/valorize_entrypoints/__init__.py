"""Entrypoints: the HTTP API, worker, realtime server and CLI (arriving in later releases)."""
