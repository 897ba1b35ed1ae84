"""A webhook receiver for the tests that send webhooks (the API's own, the realtime server's Pusher
ones): a real HTTP server on loopback that answers its first ``failures`` calls with an error, then
200, and keeps every call it got."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pusher


class Call(NamedTuple):
    """One call the receiver got: its headers (names in lower case), its body, and the status it
    answered."""

    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """Listens on ``http://127.0.0.1:<a free port><path>`` until :meth:`close`. The first
    ``failures`` calls (an attribute: a test may change it between calls) are answered with
    ``failure_status`` and ``failure_body``, every other one with 200 ``ok``."""

    def __init__(
        self, path: str = "/hooks", *, failures: int = 0, failure_status: int = 503, failure_body: bytes = b""
    ) -> None:
        self.calls: list[Call] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                failing = receiver.failures > 0
                receiver.failures -= failing
                status = failure_status if failing else 200
                receiver.calls.append(Call({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(failure_body if failing else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PusherReceiver(Receiver):
    """A receiver of the realtime server's Pusher webhooks, which checks each call with ``sdk``
    (the official SDK, holding the app's key and secret)."""

    def __init__(self, sdk: pusher.Pusher, path: str = "/pusher", **kw: Any) -> None:
        super().__init__(path, **kw)
        self.sdk = sdk

    def _checked(self) -> list[tuple[Call, dict[str, Any]]]:
        pairs = []
        for call in list(self.calls):
            assert call.headers["content-type"] == "application/json"
            body = call.body.decode()
            checked = self.sdk.validate_webhook(call.headers["x-pusher-key"], call.headers["x-pusher-signature"], body)
            assert checked is not None, call
            pairs.append((call, checked))
        return pairs

    def webhooks(self) -> list[dict[str, Any]]:
        """Every call's body so far, each checked by the SDK as a Pusher webhook (a JSON body signed
        with the app's key and secret), in the order they came."""
        return [checked for _, checked in self._checked()]

    def events(self) -> list[dict[str, Any]]:
        """The events of the calls answered 200 so far, in order (every call checked as
        :meth:`webhooks` does)."""
        return [event for call, checked in self._checked() if call.status == 200 for event in checked["events"]]
