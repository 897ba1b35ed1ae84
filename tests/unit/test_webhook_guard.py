"""The webhook destination guard (SSRF) and signatures, without the API."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from valorize_adapters.webhooks import DestinationGuard, HttpWebhookSender
from valorize_core.model.errors import ValidationError
from valorize_core.model.webhooks import sign, signature_header, verify_signature


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1",
     "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1", "192.0.2.1"],
)  # fmt: skip
def test_addresses_inside_networks_are_refused(address: str) -> None:
    assert DestinationGuard().refuses(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not DestinationGuard().refuses(ipaddress.ip_address(address))


def test_the_operator_allows_networks() -> None:
    guard = DestinationGuard(["127.0.0.0/8", "10.0.0.0/24"])
    assert not guard.refuses(ipaddress.ip_address("127.0.0.1"))
    assert not guard.refuses(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not guard.refuses(ipaddress.ip_address("10.0.0.9"))
    assert guard.refuses(ipaddress.ip_address("10.0.1.9"))
    assert guard.refuses(ipaddress.ip_address("169.254.169.254"))
    with pytest.raises(ValueError, match="networks"):
        DestinationGuard(["not a network"])


@pytest.fixture
def loopback_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_name_resolving_inside_is_refused_where_the_connection_is_made(loopback_server: str) -> None:
    """The check at call time runs in the resolver whose addresses the connection uses: a name
    that passed an earlier check and now resolves to loopback (DNS rebinding) is refused."""
    sender = HttpWebhookSender(DestinationGuard())
    result = asyncio.run(sender.send(f"http://{loopback_server}/hook", {}, b"{}", 5))
    assert result.status is None
    assert "refused" in result.error
    with pytest.raises(ValidationError, match="refused"):
        asyncio.run(sender.check_destination(f"http://{loopback_server}/hook"))


def test_redirects_are_not_followed(loopback_server: str) -> None:
    sender = HttpWebhookSender(DestinationGuard(["127.0.0.0/8", "::1/128"]))
    result = asyncio.run(sender.send(f"http://{loopback_server}/hook", {}, b"{}", 5))
    assert (result.status, result.ok) == (302, False)


def test_signatures_verify_and_refuse_tampering_and_replays() -> None:
    body = b'{"id":"e1"}'
    header = signature_header(("whsec_new", "whsec_old"), 1_700_000_000, body)
    assert (
        header
        == f"t=1700000000,v1={sign('whsec_new', 1_700_000_000, body)},v1={sign('whsec_old', 1_700_000_000, body)}"
    )
    assert verify_signature(header, "whsec_old", body, 1_700_000_100)
    assert not verify_signature(header, "whsec_new", body + b" ", 1_700_000_100)
    assert not verify_signature(header, "whsec_new", body, 1_700_000_000 + 301)
    assert not verify_signature("v1=" + sign("whsec_new", 1, body), "whsec_new", body, 1)


def test_the_api_schema_names_every_webhook_event() -> None:
    from typing import get_args

    from valorize_core.model.webhooks import WEBHOOK_EVENTS
    from valorize_entrypoints.api.schemas.webhooks import EventType

    assert set(get_args(EventType)) == {*WEBHOOK_EVENTS, "*"}
