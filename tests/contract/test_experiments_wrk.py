"""What the experiments' wrk scripts send and count (perf/experiments.py), against a small HTTP server
that records every request: a tenant per virtual user in the mixed scenario, and every answer outside
2xx counted as an error whichever wrk thread received it."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)"),
    pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset is not installed (util-linux)"),
]


@pytest.fixture(scope="module")
def experiments() -> Any:
    sys.path.insert(0, str(ROOT / "perf"))
    try:
        import experiments

        yield experiments
    finally:
        sys.path.remove(str(ROOT / "perf"))


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    status: ClassVar[int] = 200
    seen: ClassVar[dict[tuple[str, int], set[str]]] = {}  # client connection -> tokens it sent
    lock: ClassVar[threading.Lock] = threading.Lock()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.lock:
            self.seen.setdefault(self.client_address, set()).add(self.headers.get("Authorization", ""))
        body = b'{"items":[]}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"seen": {}, "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _tenants(experiments: Any, count: int) -> list[Any]:
    return [
        experiments.bench_postgres.Tenant(
            uuid.uuid4(), [uuid.uuid4() for _ in range(4)], [uuid.uuid4() for _ in range(12)], f"token-{n}"
        )
        for n in range(count)
    ]


def test_mixed_virtual_users_each_keep_their_own_tenant(
    experiments: Any, recorder: tuple[str, type[_Recorder]], tmp_path: Path
) -> None:
    base, handler = recorder
    script = tmp_path / "mixed.lua"
    script.write_text(experiments.lua_script(_tenants(experiments, 10), experiments.MIXED_LUA, None, 0, 4, True))
    result = experiments.run_wrk(base, script, 4, 1, threads=4)
    assert result["requests"] > 0
    assert result["errors"] == 0
    tokens = list(handler.seen.values())
    assert len(tokens) == 4  # four connections
    assert all(len(each) == 1 for each in tokens)  # each sent one tenant's token only
    assert len(set().union(*tokens)) == 4  # and no two the same


def test_answers_outside_2xx_are_errors(
    experiments: Any, recorder: tuple[str, type[_Recorder]], tmp_path: Path
) -> None:
    base, handler = recorder
    handler.status = 503
    script = tmp_path / "read.lua"
    script.write_text(experiments.lua_script(_tenants(experiments, 3), experiments.READ_LUA, None))
    result = experiments.run_wrk(base, script, 2, 1)
    assert result["requests"] > 0
    assert result["errors"] == result["requests"]


def test_cache_counts_cover_every_worker(experiments: Any, database_url: str, redis_url: str) -> None:
    """With two API workers, ``/metrics`` (the stages' hit ratio) counts both workers' lookups."""
    import httpx

    env = {**os.environ, "VALORIZE_DATABASE_URL": database_url, "VALORIZE_REDIS_URL": redis_url,
           "VALORIZE_RUN_MIGRATIONS": "false", "PYTHONWARNINGS": "ignore", **experiments.BENCH_RATE_LIMIT}  # fmt: skip
    meters = experiments.Meters(os.getpid(), redis_url)
    with experiments.api_server("granian", env, meters, 2, "0,1") as base:
        signup = {"tenant_name": "Workers", "email": f"{uuid.uuid4().hex}@example.com", "name": "W"}
        token = httpx.post(f"{base}/api/signup", json=signup).json()["token"]
        before = experiments.cache_counts(base)
        for _ in range(40):  # a new connection each: granian's workers share the listening socket
            response = httpx.get(f"{base}/api/transactions?limit=50", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
        delta = experiments.cache_delta(before, experiments.cache_counts(base))
    looked = sum(delta.get(event, 0) for event in ("hit", "near_hit", "miss", "early_refresh"))
    assert looked == 40
