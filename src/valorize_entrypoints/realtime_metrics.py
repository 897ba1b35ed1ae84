"""The realtime server's SLIs on ``/metrics``: connections open, channels, deliveries, inbound
messages, slow-client disconnects, resyncs, backplane gaps and refusals by Pusher error code.

``valorize realtime`` serves them on its own port (``GET /metrics``); ``valorize dev`` also on
the API's ``/metrics``. Read from the server's counters at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from valorize_adapters.pusher.server import RealtimeServer
from valorize_entrypoints.metrics import LOCAL

__all__ = ["REALTIME", "RealtimeCollector", "scrape"]


class RealtimeCollector(Collector):
    """The counters of the realtime server of this process (the latest one tracked)."""

    def __init__(self) -> None:
        self.server: RealtimeServer | None = None

    def track(self, server: RealtimeServer) -> RealtimeServer:
        self.server = server
        return server

    def collect(self) -> Iterator[Metric]:
        server = self.server
        if server is None:
            return
        shown = server.snapshot()
        stats = server.stats
        yield GaugeMetricFamily("valorize_realtime_connections", "WebSocket connections open", value=shown["clients"])
        yield GaugeMetricFamily("valorize_realtime_channels", "Channels with subscribers here", value=shown["channels"])
        for name, doc, value in (
            ("valorize_realtime_connections_opened", "WebSocket connections accepted", stats.connections),
            ("valorize_realtime_deliveries", "Channel messages sent to subscribers", stats.delivered),
            ("valorize_realtime_messages_in", "Frames received from clients", stats.messages_in),
            ("valorize_realtime_slow_disconnects", "Clients dropped for falling behind", stats.slow_disconnects),
            ("valorize_realtime_resyncs", "valorize:resync notices sent to channels", stats.resyncs),
            ("valorize_realtime_gaps", "Backplane sequence gaps (messages lost)", stats.gaps),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        refused = CounterMetricFamily(
            "valorize_realtime_refusals", "Connections refused, by Pusher code", labels=["code"]
        )
        for code, count in sorted(stats.errors.items()):
            refused.add_metric([str(code)], count)
        yield refused


REALTIME = RealtimeCollector()
REGISTRY.register(REALTIME)
LOCAL.append(REALTIME)


def scrape() -> tuple[bytes, str]:
    """This process's metrics, for the realtime server's ``GET /metrics``."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
