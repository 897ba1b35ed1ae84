"""Verifying the OIDC token Cloud Tasks attaches to each push (google-auth).

Cloud Tasks signs in as the queue's service account and sends ``Authorization: Bearer <ID token>``.
The worker accepts the call only when the token's signature checks against Google's published
certificates, it is unexpired, its audience is the worker's URL, its issuer is Google, and its
verified e-mail is the one service account allowed to invoke the worker.

The certificates are fetched once and kept for as long as Google's ``Cache-Control`` allows; a
token signed with a key not yet seen triggers an early refetch (key rotation), at most once per
``refresh_interval`` seconds so that junk tokens cannot turn the worker into a fetch loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx
from google.auth import exceptions as gauth_exc
from google.auth import jwt

__all__ = ["GOOGLE_CERTS_URL", "GoogleIdTokenVerifier", "InvalidCaller"]

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
_MAX_AGE = re.compile(r"max-age=(\d+)")


class InvalidCaller(Exception):
    """The bearer token does not prove the call comes from the allowed service account."""


class GoogleIdTokenVerifier:
    """Checks Google-signed ID tokens for one audience and one service account."""

    def __init__(
        self,
        audience: str,
        service_account: str,
        *,
        certs_url: str = GOOGLE_CERTS_URL,
        issuers: frozenset[str] = GOOGLE_ISSUERS,
        clock_skew: int = 10,
        refresh_interval: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not audience or not service_account:
            raise ValueError("an OIDC audience and a service account are required")
        self._audience = audience
        self._account = service_account
        self._certs_url = certs_url
        self._issuers = issuers
        self._skew = clock_skew
        self._http = http or httpx.AsyncClient(timeout=10.0)
        self._certs: Mapping[str, str] = {}
        self._expires = 0.0
        self._fetched = -float("inf")
        self._refresh_interval = refresh_interval
        self._lock = asyncio.Lock()

    async def _fetch(self, *, force: bool = False) -> Mapping[str, str]:
        async with self._lock:
            now = time.monotonic()
            if now >= self._expires or (force and now - self._fetched >= self._refresh_interval):
                response = await self._http.get(self._certs_url)
                response.raise_for_status()
                found = _MAX_AGE.search(response.headers.get("cache-control", ""))
                self._certs = dict(response.json())
                self._fetched = now
                self._expires = now + (int(found.group(1)) if found else 3600)
            return self._certs

    async def verify(self, token: str) -> Mapping[str, Any]:
        """The token's claims, or :class:`InvalidCaller` saying why it is refused."""
        try:
            kid = jwt.decode_header(token).get("kid")  # type: ignore[no-untyped-call]
        except (ValueError, gauth_exc.GoogleAuthError) as exc:
            raise InvalidCaller(f"not a JWT: {exc}") from None
        certs = await self._fetch()
        if kid not in certs:
            certs = await self._fetch(force=True)
        try:
            claims: Mapping[str, Any] = jwt.decode(  # type: ignore[no-untyped-call]
                token, certs=certs, audience=self._audience, clock_skew_in_seconds=self._skew
            )
        except (ValueError, gauth_exc.GoogleAuthError) as exc:
            raise InvalidCaller(str(exc)) from None
        if claims.get("iss") not in self._issuers:
            raise InvalidCaller(f"issuer {claims.get('iss')!r} is not Google")
        if claims.get("email") != self._account or claims.get("email_verified") is not True:
            raise InvalidCaller(f"{claims.get('email')!r} may not call the worker")
        return claims

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()
