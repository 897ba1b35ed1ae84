"""Embedded PostgreSQL 16 + pgvector from the ``pgserver`` package: no server to install."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg

__all__ = ["EmbeddedPostgres"]

DATABASE = "valorize"


class EmbeddedPostgres:
    """A PostgreSQL server in ``data_dir``, started on first use and stopped on :meth:`stop`.

    The server listens on a Unix socket only. ``delete_on_stop`` removes the data directory
    when stopping (for tests); otherwise the data stays for the next start.
    """

    def __init__(self, data_dir: Path | str, *, delete_on_stop: bool = False) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self._delete = delete_on_stop
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server, make sure the database exists, and return its URL."""
        if self._server is None:
            # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI containers); give it one.
            os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    import pgserver
                except ImportError:
                    raise RuntimeError(
                        "embedded PostgreSQL needs pgserver: pip install 'valorize[embedded]',"
                        " or set VALORIZE_DATABASE_URL"
                    ) from None

                self.data_dir.mkdir(parents=True, exist_ok=True)
                self._server = pgserver.get_server(  # type: ignore[attr-defined]
                    self.data_dir, cleanup_mode="delete" if self._delete else "stop"
                )
            admin = self._server.get_uri()
            with psycopg.connect(admin, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
                if not exists:
                    conn.execute(
                        f"CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING 'UTF8' "
                        "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                    )
        return str(self._server.get_uri(DATABASE))

    @property
    def url(self) -> str:
        """The database URL (starting the server if needed)."""
        return self.start()

    def interrupt(self) -> None:
        """Stop the server as an outage would (``pg_ctl stop -m fast``: sessions are cut, open
        transactions roll back), keeping its data for :meth:`resume`. For fault tests."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def resume(self) -> None:
        """Start the server :meth:`interrupt` stopped again, on the same socket and data."""
        query = parse_qs(urlparse(str(self._running().get_uri())).query)
        socket_dir = query["host"][0]
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self._running().log), "start")

    def _running(self) -> Any:
        if self._server is None:
            raise RuntimeError("the embedded server was never started")
        return self._server

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # its own runner (binaries, user)

        server = self._running()
        pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user, timeout=30)

    def stop(self) -> None:
        """Stop the server (and delete its data when asked to)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
