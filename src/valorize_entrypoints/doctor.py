"""``valorize doctor``: the configuration and every dependency checked, one line each.

Each check says ``ok``, ``warn`` (works, but not as a multi-process deployment needs) or
``fail`` (a role would not start or not work), and what to do. Checks that depend on one that
failed are skipped. Nothing is written anywhere: the checks read and ping.
"""

from __future__ import annotations

import asyncio
import enum
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from valorize_entrypoints.settings import Settings

__all__ = ["Finding", "Level", "diagnose"]

TIMEOUT = 5.0  # seconds any one dependency has to answer


class Level(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check found."""

    check: str
    level: Level
    detail: str

    def line(self) -> str:
        return f"{self.level.value:<5} {self.check:<14} {self.detail}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def diagnose(env: Mapping[str, str] | None = None) -> list[Finding]:
    """Every check, in order: configuration, PostgreSQL (server, extensions, migrations, role),
    Redis, the task queue, the realtime secret."""
    try:
        settings = Settings.from_env(env)
    except (ValueError, TypeError) as exc:
        return [Finding("configuration", Level.FAIL, f"{exc} (see docs/api.md, Configuration)")]
    found = [Finding("configuration", Level.OK, f"backend={settings.backend}, task queue={settings.task_queue}")]
    url = None
    if settings.backend == "memory":
        found.append(Finding("postgres", Level.WARN, "VALORIZE_BACKEND=memory: nothing is kept"))
    else:
        url, database = await _postgres(settings)
        found.extend(database)
    found.append(await _redis(settings))
    found.append(await _task_queue(settings, url))
    found.append(_realtime(settings))
    return found


async def _postgres(settings: Settings) -> tuple[str | None, list[Finding]]:
    url = settings.database_url
    where = "VALORIZE_DATABASE_URL"
    if not url:
        if importlib.util.find_spec("pgserver") is None:
            return None, [Finding("postgres", Level.FAIL, "no VALORIZE_DATABASE_URL and no embedded server:"
                                  " set it, or pip install 'valorize[embedded]'")]  # fmt: skip
        from valorize_adapters.postgres import EmbeddedPostgres

        where = f"embedded in {settings.data_dir / 'postgres'}"
        try:
            url = await asyncio.to_thread(EmbeddedPostgres(settings.data_dir / "postgres").start)
        except Exception as exc:
            return None, [Finding("postgres", Level.FAIL, f"the embedded server did not start: {_first_line(exc)}")]
    import psycopg

    from valorize_adapters.postgres.migrate import available_migrations

    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=int(TIMEOUT)) as conn:
            version = (await (await conn.execute("SHOW server_version")).fetchone() or ("?",))[0]
            vector = await (await conn.execute(
                "SELECT a.default_version, e.extversion FROM pg_available_extensions a"
                " LEFT JOIN pg_extension e ON e.extname = a.name WHERE a.name = 'vector'"
            )).fetchone()  # fmt: skip
            tracked = "SELECT to_regclass('schema_migrations') IS NOT NULL"
            has_table = await (await conn.execute(tracked)).fetchone()
            applied: set[int] = set()
            if has_table and has_table[0]:
                rows = await (await conn.execute("SELECT version FROM schema_migrations")).fetchall()
                applied = {r[0] for r in rows}
            role_query = "SELECT 1 FROM pg_roles WHERE rolname = %s"
            role = await (await conn.execute(role_query, (settings.db_role,))).fetchone()
    except Exception as exc:
        return None, [Finding("postgres", Level.FAIL, f"{where}: {_first_line(exc)}")]
    found = [Finding("postgres", Level.OK, f"PostgreSQL {version} ({where})")]
    if vector is None:
        found.append(Finding("pgvector", Level.FAIL, "the server has no 'vector' extension: install pgvector"))
    elif vector[1] is None:
        found.append(Finding("pgvector", Level.WARN, f"available ({vector[0]}), not created yet: valorize migrate"))
    else:
        found.append(Finding("pgvector", Level.OK, f"vector {vector[1]}"))
    pending = [m for m in available_migrations() if m.version not in applied]
    if pending:
        level, then = (Level.OK, "applied at start") if settings.run_migrations else (Level.WARN, "valorize migrate")
        found.append(Finding("migrations", level, f"{len(pending)} pending (from {pending[0].version:04d}): {then}"))
    else:
        found.append(Finding("migrations", Level.OK, f"all {len(applied)} applied"))
    if role is None and not pending:
        found.append(Finding("database role", Level.FAIL, f"no role {settings.db_role!r} (VALORIZE_DB_ROLE)"))
    return url, found


async def _redis(settings: Settings) -> Finding:
    if not settings.redis_url:
        return Finding("redis", Level.WARN, "VALORIZE_REDIS_URL not set: caches, rate limits and realtime events"
                       " stay in each process (fine for one process, as valorize dev)")  # fmt: skip
    import redis.asyncio

    client: Any = redis.asyncio.from_url(settings.redis_url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        info = await client.info("server")
    except Exception as exc:
        return Finding("redis", Level.FAIL, f"VALORIZE_REDIS_URL does not answer: {_first_line(exc)}")
    finally:
        await client.aclose()
    return Finding("redis", Level.OK, f"Redis {info.get('redis_version', '?')}")


async def _task_queue(settings: Settings, url: str | None) -> Finding:
    if settings.task_queue == "cloudtasks":
        return await _cloud_tasks(settings)
    if settings.backend == "memory":
        return Finding("task queue", Level.OK, "in memory (this process runs its tasks)")
    if url is None:
        return Finding("task queue", Level.FAIL, "the local queue lives in PostgreSQL, which does not answer")
    import psycopg

    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=int(TIMEOUT)) as conn:
            await conn.execute("SELECT set_config('valorize.scope', 'dispatcher', false)")
            queued, oldest = await (await conn.execute(
                "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM task_queue"
            )).fetchone() or (0, None)  # fmt: skip
            dead = (await (await conn.execute("SELECT count(*) FROM dead_letters")).fetchone() or (0,))[0]
    except Exception as exc:
        return Finding("task queue", Level.FAIL, f"local queue: {_first_line(exc)}")
    state = f"local: {queued} queued" + (f" (oldest {float(oldest):.0f} s)" if oldest is not None else "")
    state += f", {dead} dead letter(s)"
    if not (settings.worker_url and settings.worker_secret):
        return Finding("task queue", Level.WARN, f"{state}; the api/worker roles' dispatcher needs"
                       " VALORIZE_WORKER_URL and VALORIZE_WORKER_SECRET (valorize dev needs neither)")  # fmt: skip
    return Finding("task queue", Level.OK, f"{state}; delivered to {settings.worker_url}")


async def _cloud_tasks(settings: Settings) -> Finding:
    if not (settings.cloud_tasks_service_account or settings.worker_secret):
        return Finding("task queue", Level.FAIL, "Cloud Tasks: the worker would accept no caller; set"
                       " VALORIZE_CLOUD_TASKS_SERVICE_ACCOUNT (or VALORIZE_WORKER_SECRET, emulator)")  # fmt: skip
    try:
        from valorize_adapters.cloudtasks.queue import cloud_tasks_client

        client = cloud_tasks_client(settings.cloud_tasks_emulator or None)
        try:
            queue = await asyncio.wait_for(client.get_queue(name=settings.cloud_tasks_queue), TIMEOUT)
        finally:
            await client.transport.close()  # type: ignore[no-untyped-call]
    except Exception as exc:
        return Finding("task queue", Level.FAIL, f"Cloud Tasks {settings.cloud_tasks_queue}: {_first_line(exc)}")
    return Finding("task queue", Level.OK, f"Cloud Tasks {queue.name} ({queue.state.name.lower()})")


def _realtime(settings: Settings) -> Finding:
    if not settings.pusher_secret:
        return Finding("realtime", Level.WARN, "VALORIZE_PUSHER_SECRET not set: each process makes its own"
                       " (fine for valorize dev; the api and realtime roles must share one)")  # fmt: skip
    if len(settings.pusher_secret) < 16:
        return Finding("realtime", Level.WARN, "VALORIZE_PUSHER_SECRET is shorter than 16 characters")
    return Finding("realtime", Level.OK, f"secret set (app {settings.pusher_app_id}, key {settings.pusher_key})")
