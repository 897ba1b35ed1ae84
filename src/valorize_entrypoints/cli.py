"""The ``valorize`` command: ``dev``, ``api``, ``doctor``, ``migrate``, ``verify``, ``seed``, ``token create``,
``import-rates``, ``backup``, ``restore``."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import click

from valorize_adapters.postgres.task_queue import PgTaskQueue
from valorize_adapters.pusher.server import RealtimeServer
from valorize_core.model.errors import DomainError
from valorize_core.use_cases.actions.manage_tokens import NewToken
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_entrypoints.container import Container, Runtime, shutdown
from valorize_entrypoints.roles import Role, jobs_for, running
from valorize_entrypoints.settings import Settings

__all__ = ["main"]

T = TypeVar("T")
DEMO_EMAIL = "demo@valorize.local"


def _container(role: Role = Role.COMMAND, **overrides: Any) -> Container:
    """A container for ``role`` (the jobs it runs: see ``roles.py``), settings from VALORIZE_*."""
    container = Container()
    container.role.override(role)
    settings = Settings.from_env()
    if overrides:
        settings = Settings(**{**settings.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    container.settings.override(settings)
    return container


def _run(container: Container, job: Callable[[Runtime], Awaitable[T]]) -> T:
    async def go() -> T:
        runtime = await container.runtime()
        try:
            return await job(runtime)
        finally:
            await shutdown(container)

    try:
        return asyncio.run(go())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


async def _demo_token(runtime: Runtime) -> tuple[str, Any]:
    """The demo tenant (created on first use) and a fresh token for its owner."""
    vz = runtime.app
    user = await vz.ports.directory.user_by_email(DEMO_EMAIL)
    if user is None:
        result = await vz.signup(SignupRequest("Demo household", DEMO_EMAIL, "Demo"))
        return result.token_secret, result.tenant.id
    tenant = await _home_tenant(runtime, user.id)
    issued = await vz.create_token(NewToken(tenant, user.id, "valorize dev"))
    return issued.secret, tenant


async def _home_tenant(runtime: Runtime, user_id: Any) -> Any:
    """The first tenant the user joined."""
    memberships = await runtime.app.ports.directory.memberships(user_id)
    if not memberships:
        raise click.ClickException("the user belongs to no tenant")
    return memberships[0].tenant_id


def _progress(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=False)
    task = bar.add_task(label, total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update, bar.stop


@click.group()
@click.version_option(package_name="valorize")
def main() -> None:
    """Valorize: finance with automatic transaction categorization."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option("--seed", is_flag=True, help="Load a year of realistic demo data into the demo tenant.")
@click.option("--memory", is_flag=True, help="Keep everything in memory instead of embedded PostgreSQL.")
@click.option("--realtime-port", type=int, default=None, help="WebSocket (Pusher protocol) port (default 6001).")
def dev(host: str | None, port: int | None, seed: bool, memory: bool, realtime_port: int | None) -> None:
    """Everything in one process on embedded defaults: PostgreSQL from pgserver, the API, the
    worker and the realtime server."""
    import uvicorn

    from valorize_entrypoints.api import create_app

    container = _container(
        Role.DEV, host=host, port=port, backend="memory" if memory else None, log_json=False,
        realtime_port=realtime_port,
    )  # fmt: skip
    settings = container.settings()

    async def serve() -> None:
        runtime = await container.runtime()
        secret, tenant = await _demo_token(runtime)
        if seed:
            update, stop = _progress("seeding demo data")
            try:
                from valorize_entrypoints.demo import seed_demo

                await seed_demo(runtime.app, tenant, progress=update)
            finally:
                stop()
        url = f"http://{settings.host}:{settings.port}"
        where = "in memory" if memory else f"PostgreSQL in {settings.data_dir / 'postgres'}"
        click.echo(f"Valorize is running at {url}  (data: {where})")
        click.echo(f"Dashboard: {url}/  (sign in with the demo token)")
        click.echo(f"API docs: {url}/schema   metrics: {url}/metrics")
        click.echo(f"Demo token: {secret}")
        click.echo(f'Try: curl -H "Authorization: Bearer {secret}" {url}/api/accounts')
        sys.stdout.flush()
        config = uvicorn.Config(
            create_app(container, include_worker=True), host=settings.host, port=settings.port, log_level="warning"
        )
        # The dev role's jobs (sweeper, dispatcher, version feed, heartbeat) run in the app's
        # lifespan, as under ``valorize api`` and ``valorize worker`` (see roles.py).
        assert runtime.realtime is not None  # every runtime has one (in-process without Redis)
        from valorize_entrypoints.realtime_metrics import REALTIME, scrape
        from valorize_entrypoints.tracing import enabled, fan_out_span

        live = REALTIME.track(
            RealtimeServer(runtime.realtime.app, runtime.realtime.backplane, metrics=scrape,
                           webhooks=runtime.realtime.webhooks, traced=fan_out_span if enabled() else None)
        )  # fmt: skip
        async with live.running(settings.host, settings.realtime_port) as live_port:
            click.echo(f"Realtime (Pusher protocol): ws://{settings.host}:{live_port}/app/{runtime.realtime.app.key}")
            await uvicorn.Server(config).serve()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its clean shutdown
        click.echo("stopped")


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=1, show_default=True, help="Processes serving requests.")
def api(host: str | None, port: int | None, workers: int) -> None:
    """The production API server (granian), configured by VALORIZE_* variables."""
    _serve("valorize_entrypoints.api.app:create_app", _container(Role.API, host=host, port=port).settings(), workers)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=1, show_default=True)
def worker(host: str | None, port: int | None, workers: int) -> None:
    """The task worker (POST /tasks/{name}), as Cloud Tasks or the local dispatcher calls it."""
    settings = _container(Role.WORKER, host=host, port=port).settings()
    if not settings.worker_secret and not settings.cloud_tasks_service_account:
        raise click.ClickException(
            "set VALORIZE_CLOUD_TASKS_SERVICE_ACCOUNT (Cloud Tasks' OIDC caller) or VALORIZE_WORKER_SECRET:"
            " the worker only serves trusted callers"
        )
    _serve("valorize_entrypoints.worker:worker_app", settings, workers)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def realtime(host: str | None, port: int | None) -> None:
    """The realtime server (Pusher protocol over WebSockets), configured by VALORIZE_* variables."""
    from dataclasses import replace

    from valorize_entrypoints.realtime import serve_realtime

    settings = Settings.from_env()
    settings = replace(settings, realtime_host=host or settings.realtime_host,
                       realtime_port=port or settings.realtime_port)  # fmt: skip
    if not settings.pusher_secret:
        raise click.ClickException("set VALORIZE_PUSHER_SECRET: the API signs channel authorizations with it too")
    if not settings.redis_url:
        raise click.ClickException("set VALORIZE_REDIS_URL: the backplane that brings the API's events here")
    run: Callable[[Coroutine[Any, Any, None]], None] = asyncio.run
    with contextlib.suppress(ImportError):  # the realtime extra installs it (not on Windows)
        import uvloop  # libuv's event loop: cheaper socket writes for the fan-out (perf/README.md)

        run = uvloop.run
    run(serve_realtime(settings))


def _serve(factory: str, settings: Settings, workers: int) -> None:
    """Serve an app factory with granian (each worker process builds its own app from VALORIZE_*)."""
    from granian import Granian
    from granian.constants import Interfaces

    from valorize_entrypoints.metrics import prepare_workers

    prepare_workers(workers)  # several processes: /metrics aggregates them (metrics.py)
    Granian(
        factory,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
    ).serve()


@main.group()
def tasks() -> None:
    """The local task queue: dispatch, and dead letters."""


def _local_queue(runtime: Runtime) -> PgTaskQueue:
    if not isinstance(runtime.task_queue, PgTaskQueue):
        raise click.ClickException("the local task queue needs the postgres backend")
    return runtime.task_queue


@tasks.command("dispatch")
def tasks_dispatch() -> None:
    """Deliver queued tasks to VALORIZE_WORKER_URL until interrupted."""
    settings = Settings.from_env()
    if not settings.worker_url or not settings.worker_secret:
        raise click.ClickException("set VALORIZE_WORKER_URL and VALORIZE_WORKER_SECRET")

    container = _container(Role.DISPATCH)

    async def job(runtime: Runtime) -> None:
        _local_queue(runtime)
        async with running(jobs_for(Role.DISPATCH, container.settings(), runtime=runtime)):
            await asyncio.Event().wait()  # until interrupted

    try:
        _run(container, job)
    except KeyboardInterrupt:
        click.echo("stopped")


@tasks.command("dead")
@click.option("--limit", type=int, default=50, show_default=True)
def tasks_dead(limit: int) -> None:
    """List dead letters, newest first."""

    async def job(runtime: Runtime) -> list[Any]:
        return list(await _local_queue(runtime).dead_letters(limit))

    for d in _run(_container(), job):
        click.echo(f"{d.died_at:%Y-%m-%d %H:%M:%S}  {d.task.id}  {d.task.name:<18} attempts={d.attempts}  {d.reason}")


@tasks.command("retry")
@click.argument("task_id", required=False)
def tasks_retry(task_id: str | None) -> None:
    """Queue dead letters again (one by id, or all)."""
    import uuid

    async def job(runtime: Runtime) -> int:
        return await _local_queue(runtime).retry_dead(uuid.UUID(task_id) if task_id else None)

    click.echo(f"requeued {_run(_container(), job)}")


@tasks.command("purge")
@click.confirmation_option(prompt="Delete every dead letter?")
def tasks_purge() -> None:
    """Delete every dead letter."""

    async def job(runtime: Runtime) -> int:
        return await _local_queue(runtime).purge_dead()

    click.echo(f"purged {_run(_container(), job)}")


@main.command("import-rates")
@click.argument("location")
@click.option("--tenant", "tenant_id", type=click.UUID, default=None,
              help="Store them as this tenant's own rates (default: the global defaults).")  # fmt: skip
def import_rates(location: str, tenant_id: Any) -> None:
    """Import the ECB's euro reference rates from LOCATION: a path or an https URL of an
    eurofxref CSV or XML file, or a ZIP of one (e.g. eurofxref-hist.zip)."""
    from valorize_adapters.rates import EcbRateFile
    from valorize_core.use_cases.actions.set_rates import RateImport, RatesImported

    source = EcbRateFile(location)

    async def job(runtime: Runtime) -> RatesImported:
        result = await runtime.app.import_rates(RateImport(tenant_id, source))
        if runtime.reads is not None:  # cached converted reports of every tenant used the old rates
            for tenant in [tenant_id] if tenant_id else await runtime.backend.audit.tenant_ids():
                await runtime.reads.invalidate(tenant)
        return result

    try:
        result = _run(_container(), job)
    except OSError as exc:
        raise click.ClickException(f"cannot read {location}: {exc}") from None
    scope = f"tenant {tenant_id}" if tenant_id else "the global defaults"
    click.echo(f"stored {result.stored} rate(s) from {result.first} to {result.last} as {scope}")
    if source.skipped:
        click.echo(f"skipped codes that are not ISO 4217 currencies: {', '.join(source.skipped)}")


@main.command()
def doctor() -> None:
    """Check the configuration and every dependency (PostgreSQL and its extensions, Redis, the
    task queue, the realtime secret): one line each; exits 1 if any check fails."""
    from valorize_entrypoints.doctor import Level, diagnose

    found = asyncio.run(diagnose())
    for finding in found:
        click.echo(finding.line())
    if any(f.level is Level.FAIL for f in found):
        sys.exit(1)


@main.command()
def prune() -> None:
    """Run one retention round now: delete published events, processed-task ids, expired
    idempotency keys, finished jobs and dead letters past their VALORIZE_RETAIN_* horizons."""
    from valorize_adapters.postgres.backend import PostgresBackend
    from valorize_adapters.postgres.retention import PgRetention
    from valorize_entrypoints.retention import prune_once

    container = _container()

    async def job(runtime: Runtime) -> dict[str, int] | None:
        if not isinstance(runtime.backend, PostgresBackend):
            raise click.ClickException("retention is for the postgres backend (memory keeps nothing)")
        return await prune_once(PgRetention(runtime.backend.pool), container.settings())

    deleted = _run(container, job)
    if deleted is None:
        click.echo("another process is pruning now; nothing done")
        return
    click.echo("pruned " + ", ".join(f"{table}={count}" for table, count in deleted.items()))


@main.command()
def migrate() -> None:
    """Apply pending database migrations (safe to run from several processes at once)."""
    from valorize_adapters.postgres import EmbeddedPostgres
    from valorize_adapters.postgres import migrate as run_migrations

    settings = Settings.from_env()
    url = settings.database_url or EmbeddedPostgres(settings.data_dir / "postgres").start()
    applied = asyncio.run(run_migrations(url))
    click.echo(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.version:04d} {m.name}" for m in applied))


@main.command()
@click.option("--tenant", "tenant_ids", type=click.UUID, multiple=True, help="Audit this tenant (default: every one).")
@click.option("--grace", "grace_minutes", type=click.IntRange(min=0), default=5, show_default=True,
              help="Minutes a committed event may wait for the relay before it counts as a break.")  # fmt: skip
def verify(tenant_ids: tuple[Any, ...], grace_minutes: int) -> None:
    """Audit the books: balances against postings, splits, transfer pairs, ledger zero-sum and
    unpublished outbox events. Prints each break and exits 1 if there is any, else 0."""
    from datetime import timedelta

    from valorize_core.use_cases.queries.verify import Audit, VerifyTenant

    async def job(runtime: Runtime) -> list[Audit]:
        audit = VerifyTenant(runtime.backend.audit, runtime.app.ports.clock, timedelta(minutes=grace_minutes))
        known = await audit.tenant_ids()
        missing = [t for t in tenant_ids if t not in set(known)]
        if missing:
            raise click.BadParameter(f"no tenant {missing[0]}", param_hint="--tenant")
        audits = []
        for tenant in tenant_ids or known:
            result = await audit(tenant)
            for found in result.breaks:
                click.echo(f"BREAK {found}")
            audits.append(result)
        return audits

    audits = _run(_container(), job)
    breaks = sum(len(a.breaks) for a in audits)
    looked_at = (f"{len(audits)} tenant(s), {sum(a.accounts for a in audits)} account(s),"
                 f" {sum(a.transactions for a in audits)} transaction(s)")  # fmt: skip
    if breaks:
        broken = sum(1 for a in audits if not a.clean)
        click.echo(f"verify: {breaks} break(s) in {broken} of {looked_at}")
        sys.exit(1)
    click.echo(f"verify: clean; {looked_at}")


@main.command()
@click.option("--tenant", "tenant_id", type=click.UUID, required=True, help="The tenant to back up.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default="-", show_default=True,
              help="Where to write the archive (- for standard output).")  # fmt: skip
def backup(tenant_id: Any, output: str) -> None:
    """Write a tenant as a versioned JSON Lines archive (docs/api.md, "Backup and restore")."""
    from valorize_core.use_cases.queries.backup_tenant import TenantBackup

    async def job(runtime: Runtime) -> int:
        chunks = await runtime.app.backup_tenant(TenantBackup(tenant_id))
        written = 0
        with click.open_file(output, "wb") as out:
            async for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
        return written

    written = _run(_container(), job)
    click.echo(f"backup: {written} bytes", err=True)


@main.command()
@click.argument("archive", type=click.File("rb"))
@click.option("--tenant", "tenant_id", type=click.UUID, help="Restore into this (empty) tenant.")
@click.option("--email", help="Or sign up a new tenant owned by this e-mail and restore into it.")
@click.option("--name", default="Restored", show_default=True, help="The new tenant's name (with --email).")
def restore(archive: Any, tenant_id: Any, email: str | None, name: str) -> None:
    """Restore an archive of ``valorize backup`` into an empty tenant, all or nothing."""
    from valorize_core.use_cases.actions.restore_tenant import TenantRestore

    if (tenant_id is None) == (email is None):
        raise click.UsageError("give --tenant or --email")
    content = archive.read()

    async def job(runtime: Runtime) -> tuple[Any, Any, str | None]:
        target, secret = tenant_id, None
        if email is not None:
            signed = await runtime.app.signup(SignupRequest(name, email, email.split("@")[0]))
            target, secret = signed.tenant.id, signed.token_secret
        summary = await runtime.app.restore_tenant(TenantRestore(target, content))
        return target, summary, secret

    target, summary, secret = _run(_container(), job)
    restored = ", ".join(f"{n} {kind}" for kind, n in summary.counts.items()) or "nothing"
    click.echo(f"restored into tenant {target} (archive version {summary.version}): {restored}")
    if secret is not None:
        click.echo(f"owner token (shown once): {secret}")


@main.command()
@click.option("--email", default=DEMO_EMAIL, show_default=True, help="Owner of the tenant to fill.")
@click.option("--months", type=int, default=12, show_default=True)
def seed(email: str, months: int) -> None:
    """Load realistic demo data into an empty tenant (the demo tenant by default)."""
    from valorize_entrypoints.demo import seed_demo

    async def job(runtime: Runtime) -> int:
        if email == DEMO_EMAIL:
            _, tenant = await _demo_token(runtime)
        else:
            user = await runtime.app.ports.directory.user_by_email(email)
            if user is None:
                raise click.ClickException(f"no user {email}")
            tenant = await _home_tenant(runtime, user.id)
        update, stop = _progress("seeding")
        try:
            return await seed_demo(runtime.app, tenant, months=months, progress=update)
        finally:
            stop()

    count = _run(_container(), job)
    click.echo(f"created {count} transactions" if count else "the tenant already has data; nothing added")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The user the token is for.")
@click.option("--name", default="cli", show_default=True)
@click.option("--role", type=click.Choice(["owner", "member", "viewer"]), default=None)
def token_create(email: str, name: str, role: str | None) -> None:
    """Create a token and print its secret (shown once)."""

    async def job(runtime: Runtime) -> str:
        user = await runtime.app.ports.directory.user_by_email(email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        tenant = await _home_tenant(runtime, user.id)
        return (await runtime.app.create_token(NewToken(tenant, user.id, name, role))).secret

    click.echo(_run(_container(), job))
