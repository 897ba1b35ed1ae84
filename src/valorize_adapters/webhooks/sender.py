"""Webhook calls through ``aiohttp``, to public addresses only unless the operator allows more.

**The destination guard (SSRF).** A tenant names the URL, and the worker calling it sits
inside the operator's network: a URL naming ``127.0.0.1``, ``10.0.0.5``, ``169.254.169.254``
(the cloud metadata service) or a name resolving to one would make the worker a tenant's
probe into that network. :class:`DestinationGuard` refuses every address that is not globally
routable (``ipaddress``'s ``is_global``: loopback, private, link-local and so metadata,
carrier-grade NAT, reserved, documentation, unspecified; IPv4-mapped IPv6 is judged as the
IPv4 it maps) and multicast, except in the networks the operator lists
(``VALORIZE_WEBHOOK_ALLOWED_NETWORKS``). The check runs where the connection is made: the
sender's resolver refuses a name any of whose addresses is refused, and the connection goes
to the addresses that resolver returned, so a name that resolves to a public address when
checked and to a private one when called (DNS rebinding) is refused at the call. Redirects are
not followed (a redirect is a failed attempt): a public URL cannot bounce the call inward.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from valorize_core.model.errors import ValidationError
from valorize_core.ports.webhooks import SendResult

__all__ = ["DestinationGuard", "HttpWebhookSender"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedDestination(OSError):
    """A name resolved to an address the guard refuses (raised inside the connection)."""


class DestinationGuard:
    """Which addresses webhooks may reach: the global ones, and ``allowed`` networks."""

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        try:
            self._allowed: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n.strip()) for n in allowed if n.strip())
        except ValueError as exc:
            raise ValueError(f"webhook allowed networks: {exc}") from None

    def refuses(self, address: IPAddress) -> bool:
        """Whether a call to ``address`` is refused."""
        if any(address in network for network in self._allowed):
            return False
        judged = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
        if any(judged in network for network in self._allowed):
            return False
        return not judged.is_global or judged.is_multicast

    def check(self, addresses: Sequence[str], host: str) -> None:
        """Raise :class:`ValidationError` when ``host`` has no address or a refused one."""
        if not addresses:
            raise ValidationError.for_field("url", f"{host} has no address")
        for raw in addresses:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            if self.refuses(address):
                raise ValidationError.for_field(
                    "url", f"{host} is a private, loopback, link-local or reserved address ({address}): refused"
                )


class _GuardedResolver(AbstractResolver):
    """The default resolver, refusing names with a refused address (the connection uses these)."""

    def __init__(self, guard: DestinationGuard) -> None:
        self._guard = guard
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        try:
            self._guard.check([r["host"] for r in found], host)
        except ValidationError as exc:
            raise RefusedDestination(exc.message) from None
        return found

    async def close(self) -> None:
        await self._inner.close()


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class HttpWebhookSender:
    """POSTs a delivery; the answer (or why there was none) is the result."""

    def __init__(self, guard: DestinationGuard) -> None:
        self._guard = guard

    async def check_destination(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        literal = _literal(host)
        if literal is not None:
            self._guard.check([str(literal)], host)
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise ValidationError.for_field("url", f"{host} cannot be resolved") from None
        self._guard.check([str(info[4][0]) for info in infos], host)

    async def send(self, url: str, headers: Mapping[str, str], body: bytes, time_limit: float) -> SendResult:
        host = urlsplit(url).hostname or ""
        literal = _literal(host)
        if literal is not None and self._guard.refuses(literal):  # a literal address skips the resolver
            return SendResult(None, error=f"{host} is a refused address")
        connector = aiohttp.TCPConnector(resolver=_GuardedResolver(self._guard), force_close=True)
        timeout = aiohttp.ClientTimeout(total=time_limit)
        try:
            async with (
                aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
                session.post(url, data=body, headers=dict(headers), allow_redirects=False) as response,
            ):
                text = (await response.content.read(1000)).decode("utf-8", "replace")
                return SendResult(response.status, text)
        except TimeoutError:
            return SendResult(None, error=f"no answer within {time_limit:g} s")
        except aiohttp.ClientConnectorError as exc:
            return SendResult(None, error=_reason(exc))
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return SendResult(None, error=f"{type(exc).__name__}: {exc}"[:500])


def _reason(exc: aiohttp.ClientConnectorError) -> str:
    cause: Any = exc.os_error
    if isinstance(cause, RefusedDestination):
        return str(cause)
    return f"cannot connect: {cause}"[:500]
