"""A Redis client tuned for a cache: short timeouts, so a sick Redis costs little; and script
calls of several adapters sent in one round trip (:func:`run_scripts`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

__all__ = ["ScriptCall", "redis_client", "run_scripts"]


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


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One call of a registered Lua script, to be sent with others (:func:`run_scripts`).

    ``by_body``: sent with the script's text (``EVAL``), so Redis cannot refuse it as unknown,
    for a call the ones after it must follow: a script Redis lost alone (another process loaded
    the others since a restart) would let them run first, before it is loaded and sent again."""

    script: AsyncScript
    keys: Sequence[str]
    args: Sequence[Any]
    by_body: bool = False


async def run_scripts(client: redis.Redis, calls: Sequence[ScriptCall], *, raise_on_error: bool = True) -> list[Any]:
    """Run ``calls`` in one round trip (a pipeline of ``EVALSHA``, ``EVAL`` for a call
    ``by_body``), in order: Redis runs them one after the other, so each sees what the ones
    before it did, and what they publish is published in that order. Returns their results;
    raises the first error once every call ran (without ``raise_on_error``, a failed call's
    result is its exception; a connection that fails raises either way).

    A script Redis does not know (it restarted or was flushed) is loaded, and the calls from the
    first that failed so on are sent again, in order.
    """
    results = await _pipelined(client, calls)
    missing = [n for n, result in enumerate(results) if isinstance(result, NoScriptError)]
    if missing:
        for script in {id(c.script): c.script for c in calls[missing[0] :]}.values():
            await client.script_load(script.script)
        results[missing[0] :] = await _pipelined(client, calls[missing[0] :])
    if not raise_on_error:
        return results
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


async def _pipelined(client: redis.Redis, calls: Sequence[ScriptCall]) -> list[Any]:
    async with client.pipeline(transaction=False) as pipe:
        for call in calls:
            command, script = ("EVAL", call.script.script) if call.by_body else ("EVALSHA", call.script.sha)
            pipe.execute_command(command, script, len(call.keys), *call.keys, *call.args)
        return list(await pipe.execute(raise_on_error=False))
