"""``/metrics`` of ``valorize api --workers 2`` counts every worker's requests, whichever worker
answers the scrape (Prometheus' multiprocess mode, metrics.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from valorize_core.testing.net import free_port

SRC = Path(__file__).resolve().parents[2] / "src"


def _health_count(text: str) -> float:
    found = re.findall(r'^valorize_requests_total\{[^}]*path="/health"[^}]*\} (\S+)$', text, re.M)
    return sum(float(v) for v in found)


@pytest.mark.slow
def test_every_scrape_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PYTHONPATH=str(SRC), VALORIZE_BACKEND="memory", PYTHONWARNINGS="ignore", XDG_DATA_HOME=str(tmp_path),
               TMPDIR=str(tmp_path))  # fmt: skip
    log = (tmp_path / "api.log").open("w+")
    code = "from valorize_entrypoints.launcher import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, "api", "--workers", "2", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, Path(log.name).read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        sent = 1
        for _ in range(40):  # a new connection each: the kernel spreads them over the workers
            assert httpx.get(f"{base}/health", timeout=5).status_code == 200
            sent += 1
        counts = [_health_count(httpx.get(f"{base}/metrics", timeout=5).text) for _ in range(6)]
        # the folder valorize api made for its workers' samples (in TMPDIR), one file per worker
        pids = {p.name.rsplit("_", 1)[-1] for p in tmp_path.glob("valorize-metrics-*/counter_*.db")}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert len(pids) == 2, pids  # both workers served requests and wrote their samples
    assert counts == [sent] * 6, counts
