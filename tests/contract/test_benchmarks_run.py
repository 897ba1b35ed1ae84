"""The benchmarks keep working: each runs in its quick mode (numbers are not checked here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_postgres_benchmark_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "postgres.json"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "bench_postgres.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(output.read_text())
    assert numbers["bulk_insert_rows_per_second"] > 0
    assert "| list page: text search |" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_server_benchmark_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "servers.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "bench_servers.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(output.read_text())
    assert numbers["granian"]["accounts"]["requests_per_second"] > 0
    assert numbers["uvicorn"]["accounts"]["non_2xx"] == 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_cache_benchmark_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "cache.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "bench_cache.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(output.read_text())
    assert numbers["warm"]["hit_ratio"] > 0.9
    assert numbers["cold"]["hit_ratio"] == 0
    assert numbers["off"]["hit_ratio"] is None


@pytest.mark.slow
def test_drain_benchmark_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "drain.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "bench_drain.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(output.read_text())
    assert (numbers["lost"], numbers["duplicated"], numbers["left_in_queue"]) == (0, 0, 0)
