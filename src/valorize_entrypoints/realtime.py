"""``valorize realtime``: the Pusher-protocol WebSocket server, on its own.

Instances share a Redis backplane (``VALORIZE_REDIS_URL``) with each other and with the API,
whose outbox relay broadcasts committed events and whose ``/broadcasting/auth`` signs
subscriptions with the same app secret (``VALORIZE_PUSHER_SECRET``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from valorize_adapters.pusher.server import RealtimeServer
from valorize_entrypoints.collector import tune_collector
from valorize_entrypoints.container import realtime_resources
from valorize_entrypoints.logs import configure_logging_from
from valorize_entrypoints.realtime_metrics import REALTIME, scrape
from valorize_entrypoints.roles import Role, jobs_for, running
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.tracing import configure_tracing, enabled, fan_out_span

__all__ = ["serve_realtime"]

log = logging.getLogger("valorize.realtime")


async def serve_realtime(
    settings: Settings, *, stop: asyncio.Event | None = None, ready: Callable[[int], None] | None = None
) -> None:
    """Serve until ``stop`` is set or SIGINT/SIGTERM arrives; ``ready`` gets the bound port."""
    configure_logging_from(settings)
    configure_tracing(settings.tracing, service="valorize-realtime")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    async with (
        realtime_resources(settings) as realtime,
        running(jobs_for(Role.REALTIME, settings, realtime=realtime)),  # the backplane heartbeat
    ):
        traced = fan_out_span if enabled() else None
        server = REALTIME.track(
            RealtimeServer(realtime.app, realtime.backplane, metrics=scrape, webhooks=realtime.webhooks, traced=traced)
        )
        async with server.running(settings.realtime_host, settings.realtime_port) as port:
            tune_collector(settings.gc_threshold)  # what startup built is never walked again
            log.info("realtime server listening", extra={"fields": {"host": settings.realtime_host, "port": port}})
            if ready is not None:
                ready(port)
            await stop.wait()
