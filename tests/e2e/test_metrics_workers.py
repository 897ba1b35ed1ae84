"""``/metrics`` of ``valorize api --workers 2`` counts every worker's requests, whichever worker
answers the scrape (Prometheus' multiprocess mode, metrics.py)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest

from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import RoleProcess

SRC = Path(__file__).resolve().parents[2] / "src"


def _health_count(text: str) -> float:
    found = re.findall(r'^valorize_requests_total\{[^}]*path="/health"[^}]*\} (\S+)$', text, re.M)
    return sum(float(v) for v in found)


@pytest.mark.slow
def test_every_scrape_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PYTHONPATH=str(SRC), VALORIZE_BACKEND="memory", PYTHONWARNINGS="ignore", XDG_DATA_HOME=str(tmp_path),
               TMPDIR=str(tmp_path))  # fmt: skip
    with RoleProcess("api", free_port(), env, tmp_path / "api.log", workers=2) as api:
        sent = 1  # the /health that told RoleProcess it had started

        def samples() -> set[str]:  # the folder valorize api made for its workers (in TMPDIR), a file per worker
            return {p.name.rsplit("_", 1)[-1] for p in tmp_path.glob("valorize-metrics-*/counter_*.db")}

        # A new connection each: the kernel spreads them over the workers — once both are up (the
        # first answers while the second may still be starting on a loaded machine).
        deadline = time.monotonic() + 60
        while sent < 41 or (len(samples()) < 2 and time.monotonic() < deadline):
            assert httpx.get(f"{api.url}/health", timeout=5).status_code == 200
            sent += 1
        counts = [_health_count(httpx.get(f"{api.url}/metrics", timeout=5).text) for _ in range(6)]
        pids = samples()
    assert len(pids) == 2, pids  # both workers served requests and wrote their samples
    assert counts == [sent] * 6, counts
