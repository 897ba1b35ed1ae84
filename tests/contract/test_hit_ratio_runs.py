"""perf/hit_ratio.py keeps working, and its mixed sequence finds cached pages after writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_hit_ratio_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "hit_ratio.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "hit_ratio.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(output.read_text())
    assert numbers["hits"] + numbers["misses"] > 0
    # A write retires its account's and category's pages, not the tenant's: a list of another
    # category, read again after writes, is still cached (every write retired it before).
    assert sum(v["hits"] for k, v in numbers["by_read"].items() if k.startswith("one category")) > 0
