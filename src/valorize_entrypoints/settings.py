"""Settings from ``VALORIZE_*`` environment variables, read once at start."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from limits import parse as parse_limit

from valorize_adapters.pusher.webhooks import parse_kinds
from valorize_core.model.errors import ValidationError
from valorize_core.model.webhooks import check_url

__all__ = ["MIN_TASK_ID_HOURS", "Settings", "default_data_dir"]

# Twice Cloud Tasks' redelivery window (max_retry_duration, 24 h in deploy/terraform).
MIN_TASK_ID_HOURS = 48


def default_data_dir() -> Path:
    """Where embedded data lives: ``$XDG_DATA_HOME/valorize`` or ``~/.local/share/valorize``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "valorize"


def ipaddress_networks(text: str) -> tuple[str, ...]:
    """The comma-separated networks of ``text``, each checked."""
    networks = tuple(n.strip() for n in text.split(",") if n.strip())
    for network in networks:
        ipaddress.ip_network(network)
    return networks


def _bool(value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    Attributes:
        backend: ``postgres`` (default) or ``memory`` (tests, demos; nothing is kept).
        database_url: PostgreSQL URL; empty means an embedded server in ``data_dir``.
        data_dir: where the embedded PostgreSQL keeps its files.
        host, port: where the HTTP API listens.
        db_pool_min, db_pool_max: connection pool bounds.
        db_pool_timeout: the longest wait for a database connection, in seconds; past it a
            request answers 503 with ``Retry-After``.
        db_role: role to SET after connecting (row-level security needs a non-superuser).
        run_migrations: migrate on start (``valorize migrate`` does it explicitly).
        log_json: one JSON log line per request (else human-readable).
        log_level: the level of Valorize's loggers (``debug``, ``info``, ``warning``, ...);
            third-party loggers stay at WARNING unless it is ``debug`` (see logs.py).
        tracing: OpenTelemetry spans: ``off`` (default), ``console``, ``otlp`` (to
            ``OTEL_EXPORTER_OTLP_ENDPOINT``; the ``tracing`` extra) or ``memory`` (tests); see
            tracing.py.
        gcp_project: the Google Cloud project the log lines' trace ids belong to (default: the
            one in ``cloud_tasks_queue``); empty outside Google Cloud.
        embedding_dimensions: size of the hashing embedder's vectors.
        embedder: ``hashing`` (default: offline, deterministic) or
            ``sentence-transformers:<model>`` (the ``embeddings`` extra; downloads the model).
        redis_url: Redis for the read cache (and, later, the event backplane); empty means an
            in-process cache (one process, e.g. ``valorize dev``).
        cache: cache-aside for reads on (default) or off.
        cache_ttl: seconds a cached read may be kept. Writes retire cached reads through the
            tenant's version, even when their process dies right after committing (see
            cache_hold), so this only bounds what a write that could not reach Redis at all
            leaves behind.
        cache_hold: seconds a write holds its tenant just before committing: reads computed
            meanwhile are kept no longer than this. Longer than any commit takes.
        near_cache_mb: with Redis, megabytes of cached reads also kept in each process and
            served without a round trip while its version feed is live (0: off; see
            docs/caching.md for what another process's write looks like from here).
        token_cache_ttl: seconds a process trusts a token lookup (0: ask the database every
            time); a revocation elsewhere takes at most this long to reach this process.
        worker_secret: shared secret the local dispatcher presents to the worker (dev and
            embedded runs; Cloud Tasks authenticates with OIDC instead).
        worker_url: the worker's base URL: where the local dispatcher or Cloud Tasks delivers
            tasks (default for the local dispatcher: this process).
        task_queue: ``local`` (tasks in PostgreSQL, delivered by the local dispatcher) or
            ``cloudtasks`` (Google Cloud Tasks pushes them to ``worker_url``).
        cloud_tasks_queue: the queue's path, ``projects/P/locations/L/queues/Q``.
        cloud_tasks_emulator: ``host:port`` of a Cloud Tasks emulator (tests, local trials).
        cloud_tasks_service_account: the service account whose OIDC token Cloud Tasks attaches;
            the worker then accepts exactly that caller (besides the shared secret, if set).
        worker_oidc_audience: the audience the worker requires in OIDC tokens (default:
            ``worker_url``).
        worker_oidc_certs_url: where Google's token-signing certificates are published.
        pusher_app_id, pusher_key, pusher_secret: the realtime app's credentials (Pusher
            protocol). The secret signs channel authorizations and HTTP API calls; empty means a
            random one for this process (``valorize dev``), so multi-process deployments set it.
        pusher_encryption_master_key: base64 of 32 random bytes; each encrypted channel's
            ``shared_secret`` (``private-encrypted-*``) is derived from it, as in the Pusher SDKs
            (publishers encrypt with the same key). Empty: encrypted channels are refused.
        realtime_host, realtime_port: where ``valorize realtime`` (and ``valorize dev``) listen.
        realtime_public_url: where browsers reach the realtime server (``wss://rt.example.com``),
            told to the dashboard; empty: the dashboard's own host at ``realtime_port``.
        realtime_client_events: let clients send ``client-`` events on private/presence channels.
        realtime_activity_timeout: seconds of silence before the server pings a client.
        realtime_max_message_bytes: the largest frame a client may send.
        pusher_webhook_urls: comma-separated URLs the realtime server's Pusher webhooks are
            POSTed to (by the worker, through the task queue); empty: no webhooks.
        pusher_webhook_events: comma-separated kinds sent (``channel_occupied``,
            ``channel_vacated``, ``member_added``, ``member_removed``, ``client_event``,
            ``cache_miss``); empty or ``*``: all.
        pusher_webhook_window: seconds of events batched into one call.
        max_json_bytes: the largest JSON request body (413 beyond it).
        max_json_depth: how deep a JSON request body may nest arrays and objects (400 beyond).
        rate_limit_per_token: requests one API token may make per window, in the ``limits``
            notation (``6000/minute``, ``100 per second``); ``off`` disables it. Counted in Redis
            when ``redis_url`` is set (shared by every process), else per process.
        rate_limit_failed_auth: requests with a bearer token that does not authenticate, per
            client address and window (``off`` disables it).
        schedule_tick: seconds between the scheduler job's asks for due schedule occurrences
            (worker and dev roles with the local or in-memory queue).
        webhook_allowed_networks: comma-separated networks (``10.0.0.0/8,::1/128``) webhooks
            may reach besides public addresses; empty (default): loopback, private, link-local
            (metadata) and reserved addresses are refused (docs/security.md).
        webhook_retry_delays: seconds before each retry of a failed webhook delivery,
            comma-separated; a delivery is tried once more than there are delays, and the
            endpoint is disabled when the last attempt fails.
        webhook_timeout: seconds one webhook call may take.
        retention_interval: seconds between two pruning rounds of the worker role (0: never;
            ``valorize prune`` runs one round now). See docs/reliability.md, Retention.
        retain_events_hours: hours a published outbox row is kept.
        retain_task_ids_hours: hours a processed task's id is kept, to answer a redelivery as a
            duplicate; at least 48, twice Cloud Tasks' redelivery window (``max_retry_duration``
            24 h in deploy/terraform).
        retain_jobs_hours: hours a finished job (and its result) stays readable.
        retain_dead_letters_hours: hours a dead letter is kept for ``valorize tasks retry``.
        gc_threshold: the garbage collector's generation-0 threshold in a serving role, set
            with everything startup built frozen (``collector.py``); 0 leaves Python's
            collector as it is (700, nothing frozen).
    """

    backend: str = "postgres"
    database_url: str = ""
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_min: int = 1
    db_pool_max: int = 10
    db_pool_timeout: float = 2.0
    db_role: str = "valorize_app"
    run_migrations: bool = True
    log_json: bool = True
    log_level: str = "info"
    gcp_project: str = ""
    tracing: str = "off"
    embedding_dimensions: int = 256
    embedder: str = "hashing"
    redis_url: str = ""
    cache: bool = True
    cache_ttl: int = 900
    cache_hold: int = 10
    near_cache_mb: int = 64
    token_cache_ttl: int = 10
    worker_secret: str = ""
    worker_url: str = ""
    task_queue: str = "local"
    cloud_tasks_queue: str = ""
    cloud_tasks_emulator: str = ""
    cloud_tasks_service_account: str = ""
    worker_oidc_audience: str = ""
    worker_oidc_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    pusher_app_id: str = "100001"
    pusher_key: str = "valorize-key"
    pusher_secret: str = ""
    pusher_encryption_master_key: str = ""
    realtime_host: str = "127.0.0.1"
    realtime_port: int = 6001
    realtime_public_url: str = ""
    realtime_client_events: bool = False
    realtime_activity_timeout: int = 120
    realtime_max_message_bytes: int = 10_000
    pusher_webhook_urls: str = ""
    pusher_webhook_events: str = ""
    pusher_webhook_window: float = 1.0
    max_json_bytes: int = 1 << 20
    max_json_depth: int = 32
    rate_limit_per_token: str = "6000/minute"
    rate_limit_failed_auth: str = "30/minute"
    schedule_tick: int = 300

    @property
    def encryption_master_key(self) -> bytes:
        """The decoded :attr:`pusher_encryption_master_key` (empty when unset or not base64)."""
        try:
            return base64.b64decode(self.pusher_encryption_master_key, validate=True)
        except ValueError:
            return b""

    webhook_allowed_networks: str = ""
    webhook_retry_delays: str = "30,120,600,1800,3600,10800,21600,43200"
    webhook_timeout: float = 10.0

    def pusher_webhooks(self) -> tuple[tuple[str, ...], frozenset[str]]:
        """The Pusher webhook URLs (each an absolute http(s) URL) and the kinds sent."""
        urls = tuple(u.strip() for u in self.pusher_webhook_urls.split(",") if u.strip())
        for url in urls:
            try:
                check_url(url)
            except ValidationError as exc:
                raise ValueError(f"{url[:100]}: {exc.message}") from None
        if not 0 < self.pusher_webhook_window <= 60:
            raise ValueError("the window is more than 0 and at most 60 seconds")
        return urls, parse_kinds(self.pusher_webhook_events)

    def webhook_delays(self) -> tuple[timedelta, ...]:
        """``webhook_retry_delays`` as durations (each 0 to 7 days)."""
        delays = tuple(timedelta(seconds=int(p)) for p in self.webhook_retry_delays.split(",") if p.strip())
        if any(not timedelta(0) <= d <= timedelta(days=7) for d in delays) or len(delays) > 20:
            raise ValueError("webhook retry delays are at most 20, each 0 to 604800 seconds")
        return delays

    retention_interval: int = 3600
    retain_events_hours: int = 24
    retain_task_ids_hours: int = 168
    retain_jobs_hours: int = 168
    retain_dead_letters_hours: int = 720
    gc_threshold: int = 10_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment; unknown ``VALORIZE_*`` names are an error."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        fields = cls.__dataclass_fields__
        for name, raw in env.items():
            if not name.startswith("VALORIZE_") or name.startswith("VALORIZE_TEST_"):
                continue
            key = name.removeprefix("VALORIZE_").lower()
            if key not in fields:
                raise ValueError(f"unknown setting {name}")
            kind = fields[key].type
            try:
                if kind == "int":
                    values[key] = int(raw)
                elif kind == "float":
                    values[key] = float(raw)
                elif kind == "bool":
                    values[key] = _bool(raw)
                elif kind == "Path":
                    values[key] = Path(raw).expanduser()
                else:
                    values[key] = raw
            except ValueError:
                what = {"int": "an integer", "float": "a number", "bool": "true or false"}.get(str(kind), "valid")
                raise ValueError(f"{name} must be {what}, not {raw!r}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.backend not in ("postgres", "memory"):
            raise ValueError("VALORIZE_BACKEND must be postgres or memory")
        if settings.embedder != "hashing" and not settings.embedder.startswith("sentence-transformers:"):
            raise ValueError("VALORIZE_EMBEDDER must be hashing or sentence-transformers:<model>")
        if not settings.pusher_app_id.isdigit():
            raise ValueError("VALORIZE_PUSHER_APP_ID must be digits (Pusher app ids are numbers)")
        if settings.pusher_encryption_master_key and len(settings.encryption_master_key) != 32:
            raise ValueError("VALORIZE_PUSHER_ENCRYPTION_MASTER_KEY must be base64 of 32 bytes")
        if settings.cache_ttl < 1 or settings.cache_hold < 1:
            raise ValueError("VALORIZE_CACHE_TTL and VALORIZE_CACHE_HOLD must be at least 1 (second)")
        if settings.near_cache_mb < 0:
            raise ValueError("VALORIZE_NEAR_CACHE_MB must be 0 (off) or more")
        if settings.max_json_bytes < 1 or settings.max_json_depth < 1:
            raise ValueError("VALORIZE_MAX_JSON_BYTES and VALORIZE_MAX_JSON_DEPTH must be at least 1")
        for name in ("rate_limit_per_token", "rate_limit_failed_auth"):
            value = getattr(settings, name)
            if value.strip().lower() not in ("", "off"):
                try:
                    parse_limit(value)
                except ValueError:
                    raise ValueError(f"VALORIZE_{name.upper()} must be like 6000/minute, or off") from None
        if settings.realtime_public_url and not re.fullmatch(r"wss?://[^/\s?#]+/?", settings.realtime_public_url):
            raise ValueError("VALORIZE_REALTIME_PUBLIC_URL must be ws://host[:port] or wss://host[:port]")
        try:
            settings.pusher_webhooks()
        except ValueError as exc:
            raise ValueError(f"VALORIZE_PUSHER_WEBHOOK_*: {exc}") from None
        if settings.schedule_tick < 1:
            raise ValueError("VALORIZE_SCHEDULE_TICK must be at least 1 (second)")
        try:
            settings.webhook_delays()
            ipaddress_networks(settings.webhook_allowed_networks)
        except ValueError as exc:
            raise ValueError(f"VALORIZE_WEBHOOK_*: {exc}") from None
        if settings.tracing not in ("off", "console", "otlp", "memory") and not settings.tracing.startswith("file:/"):
            raise ValueError("VALORIZE_TRACING must be off, console, otlp, memory or file:/absolute/path")
        if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("VALORIZE_LOG_LEVEL must be debug, info, warning, error or critical")
        if settings.retain_task_ids_hours < MIN_TASK_ID_HOURS:
            raise ValueError(
                f"VALORIZE_RETAIN_TASK_IDS_HOURS must be at least {MIN_TASK_ID_HOURS}: a task id must be kept"
                " longer than any redelivery of the task (Cloud Tasks retries for up to 24 hours)"
            )
        if min(settings.retention_interval, settings.retain_events_hours, settings.retain_jobs_hours,
               settings.retain_dead_letters_hours) < 0:  # fmt: skip
            raise ValueError("VALORIZE_RETENTION_INTERVAL and VALORIZE_RETAIN_*_HOURS cannot be negative")
        if settings.gc_threshold < 0:
            raise ValueError("VALORIZE_GC_THRESHOLD must be 0 (Python's collector as it is) or more")
        if settings.task_queue not in ("local", "cloudtasks"):
            raise ValueError("VALORIZE_TASK_QUEUE must be local or cloudtasks")
        if settings.task_queue == "cloudtasks" and not (settings.cloud_tasks_queue and settings.worker_url):
            raise ValueError("Cloud Tasks needs VALORIZE_CLOUD_TASKS_QUEUE and VALORIZE_WORKER_URL")
        return settings
