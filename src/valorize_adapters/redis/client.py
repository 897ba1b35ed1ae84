"""A Redis client tuned for a cache: short timeouts, so a sick Redis costs little."""

from __future__ import annotations

import redis.asyncio as redis

__all__ = ["redis_client"]


def redis_client(url: str, *, timeout: float = 0.25, max_connections: int = 50) -> redis.Redis:
    """A pooled asyncio client. Broken connections are replaced on the next command."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=15,
        max_connections=max_connections,
        decode_responses=False,
    )
