"""A Redis client tuned for a cache: short timeouts, so a sick Redis costs little."""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["redis_client"]


def redis_client(url: str, *, timeout: float = 0.25, max_connections: int = 50, retries: int = 1) -> redis.Redis:
    """A pooled asyncio client.

    A command that meets a dead pooled connection (Redis restarted) is retried ``retries``
    times on a new connection; timeouts are not retried, so a slow Redis costs one timeout,
    not two.
    """
    return redis.Redis.from_url(
        url,
        retry=Retry(NoBackoff(), retries),
        retry_on_error=[redis.ConnectionError] if retries else [],
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=15,
        max_connections=max_connections,
        decode_responses=False,
    )
