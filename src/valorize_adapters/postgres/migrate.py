"""Versioned SQL migrations, applied in order, once, safely from several processes at once.

Migrations are the ``NNNN_name.sql`` files in this package's ``migrations`` folder. Each runs
in its own transaction together with its record in ``schema_migrations`` (version, name,
SHA-256 of the file, time). A session-level advisory lock serializes concurrent runners: the
second waits, then finds everything applied. An applied migration whose file changed is an
error rather than a silent divergence.

We keep this runner instead of a library: the candidates are synchronous (yoyo) or bring an
ORM (alembic + SQLAlchemy), while this is ~100 lines on the psycopg 3 we already use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

__all__ = ["Migration", "MigrationError", "available_migrations", "migrate"]

# Arbitrary but fixed: the key of the advisory lock every runner takes.
LOCK_KEY = 7_356_120_441
_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


class MigrationError(RuntimeError):
    """The database's migration history does not match the files."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    folder = resources.files("valorize_adapters.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migrations share a version number")
    return found


async def migrate(conninfo: str, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply every pending migration; return those applied by this call."""
    wanted = available_migrations() if migrations is None else migrations
    applied_now: list[Migration] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY,
                       name text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            cur = await conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            done = {v: (n, c) for v, n, c in await cur.fetchall()}
            for migration in wanted:
                if migration.version in done:
                    name, checksum = done[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{name} was changed after it was applied"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql.encode("utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(migration)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now
