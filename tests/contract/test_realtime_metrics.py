"""The realtime server's SLIs on its ``GET /metrics``: connections open, deliveries, refusals."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from test_realtime import APP, client
from websockets.asyncio.client import connect

from valorize_adapters.pusher.backplane import InMemoryBackplane
from valorize_adapters.pusher.server import RealtimeServer
from valorize_core.testing.loop import run
from valorize_entrypoints.realtime_metrics import REALTIME, scrape


def _value(text: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.M)
    assert found, (name, text[:2000])
    return float(found.group(1))


def test_the_realtime_server_reports_connections_and_deliveries() -> None:
    async def go() -> tuple[str, str, str]:
        backplane = InMemoryBackplane()
        server = REALTIME.track(RealtimeServer(APP, backplane, metrics=scrape))
        async with server.running("127.0.0.1", 0) as port:
            url, http = f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}/metrics"
            async with httpx.AsyncClient() as web:
                async with client(url) as a, client(url) as b:
                    await a.subscribe("ticker")
                    await b.subscribe("ticker")
                    await backplane.publish("ticker", "tick", '{"n":1}')
                    await a.next("tick")
                    await b.next("tick")
                    during = (await web.get(http)).text
                async with connect(f"{url}/app/wrong-key?protocol=7") as ws:  # refused: 4001
                    assert json.loads(await ws.recv())["event"] == "pusher:error"
                await asyncio.sleep(0.1)
                response = await web.get(http)
                after = response.text
                return during, after, response.headers["content-type"]

    during, after, content_type = run(go())
    assert content_type.startswith("text/plain")
    assert _value(during, "valorize_realtime_connections") == 2
    assert _value(during, "valorize_realtime_deliveries_total") == 2
    assert _value(during, "valorize_realtime_channels") == 1
    assert _value(after, "valorize_realtime_connections") == 0
    assert _value(after, "valorize_realtime_connections_opened_total") >= 2
    assert 'valorize_realtime_refusals_total{code="4001"}' in after
