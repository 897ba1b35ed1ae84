"""The worker accepts Cloud Tasks' OIDC tokens only from the configured service account.

Google's certificate endpoint is played by a local server publishing a self-signed certificate
in the same ``{key id: PEM}`` format; tokens are signed with google-auth's own signer.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt
from http_support import Api
from litestar import Litestar, Response, get
from litestar.testing import TestClient

from valorize_adapters.cloudtasks import GoogleIdTokenVerifier, InvalidCaller
from valorize_core.testing.loop import run
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.testing import serving

ACCOUNT = "valorize-tasks@valorize-prod.iam.gserviceaccount.com"
WORKER = "https://worker.valorize.example"


class Key:
    """An RSA key with a self-signed certificate, as Google publishes its signing keys."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-signer")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.private.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(self.private, hashes.SHA256())
        )  # fmt: skip
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.signer = crypt.RSASigner.from_string(pem, key_id=kid)

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": "https://accounts.google.com", "aud": WORKER, "email": ACCOUNT, "email_verified": True,
                  "sub": "1234567890", "iat": now, "exp": now + 3600, **overrides}  # fmt: skip
        return jwt.encode(self.signer, claims).decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, Key]:
    return {"current": Key("key-1"), "rotated": Key("key-2"), "stranger": Key("key-1")}


@pytest.fixture
def published(keys: dict[str, Key]) -> Iterator[tuple[str, dict[str, str]]]:
    certs = {keys["current"].kid: keys["current"].cert_pem}

    @get("/certs")
    async def serve_certs() -> Response[Any]:
        return Response(certs, headers={"cache-control": "public, max-age=3600"})

    with serving(Litestar([serve_certs])) as base:
        yield f"{base}/certs", certs


@pytest.fixture
def client(published: tuple[str, dict[str, str]]) -> Iterator[TestClient[Any]]:
    settings = Settings(backend="memory", cloud_tasks_service_account=ACCOUNT, worker_url=WORKER,
                        worker_oidc_certs_url=published[0], worker_secret="dispatcher-secret")  # fmt: skip
    container = Container()
    container.settings.override(settings)
    with TestClient(create_app(container, include_worker=True)) as test_client:
        yield test_client


def push(client: TestClient[Any], tenant: str, token: str | None) -> Any:
    headers = {"x-cloudtasks-taskname": uuid.uuid4().hex, "content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    body = {"tenant_id": tenant, "payload": {"day": "2026-03-10"}}
    return client.post("/tasks/evaluate_budgets", content=json.dumps(body), headers=headers)


def test_only_the_tasks_service_account_may_call_the_worker(
    client: TestClient[Any], keys: dict[str, Key], published: tuple[str, dict[str, str]]
) -> None:
    tenant = Api(client).tenant_id
    key = keys["current"]
    accepted = push(client, tenant, key.token())
    assert (accepted.status_code, accepted.json()["outcome"]) == (200, "done")
    refused = {
        "no token": None,
        "not a JWT": "not-a-token",
        "another audience": key.token(aud="https://api.valorize.example"),
        "another account": key.token(email="intruder@evil.iam.gserviceaccount.com"),
        "unverified e-mail": key.token(email_verified=False),
        "another issuer": key.token(iss="https://evil.example"),
        "expired": key.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "a stranger's key under a known id": keys["stranger"].token(),
        "an unpublished key": keys["rotated"].token(),
    }
    for why, token in refused.items():
        assert push(client, tenant, token).status_code == 401, why
    # The local dispatcher still gets in with the shared secret.
    headers = {"x-valorize-worker-secret": "dispatcher-secret", "x-cloudtasks-taskname": uuid.uuid4().hex}
    body = json.dumps({"tenant_id": tenant, "payload": {"day": "2026-03-10"}})
    assert client.post("/tasks/evaluate_budgets", content=body, headers=headers).status_code == 200


def test_a_rotated_key_is_fetched_once_it_is_published(
    keys: dict[str, Key], published: tuple[str, dict[str, str]]
) -> None:
    async def go() -> list[str]:
        verifier = GoogleIdTokenVerifier(WORKER, ACCOUNT, certs_url=published[0], refresh_interval=0)
        outcomes = []
        try:
            for _ in range(2):
                try:
                    claims = await verifier.verify(keys["rotated"].token())
                    outcomes.append(claims["email"])
                except InvalidCaller:
                    outcomes.append("refused")
                published[1][keys["rotated"].kid] = keys["rotated"].cert_pem
        finally:
            await verifier.close()
        return outcomes

    assert run(go()) == ["refused", ACCOUNT]


def test_a_worker_without_oidc_refuses_bearer_tokens(keys: dict[str, Key]) -> None:
    container = Container()
    container.settings.override(Settings(backend="memory", worker_secret="s"))
    with TestClient(create_app(container, include_worker=True)) as client:
        assert push(client, Api(client).tenant_id, keys["current"].token()).status_code == 401
