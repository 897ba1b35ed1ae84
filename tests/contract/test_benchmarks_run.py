"""The benchmarks keep working: each runs in its quick mode (numbers are not checked here)."""

from __future__ import annotations

import json
import os
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
