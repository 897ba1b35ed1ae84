"""The benchmarks keep working: each runs in its quick mode (numbers are not checked here)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _without_bench(*modules: str) -> bool:
    return any(importlib.util.find_spec(m) is None for m in modules)


BENCH_EXTRA = "the bench extra is not installed (.ci/run installs it: pip install -e '.[dev,bench]')"


def _run_quick(script: str, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Run ``perf/<script>.py --quick``; its stdout and the numbers it wrote."""
    output = tmp_path / f"{script}.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / f"{script}.py"), "--quick", "--output", str(output)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, json.loads(output.read_text())


@pytest.mark.slow
def test_postgres_benchmark_quick_mode(tmp_path: Path) -> None:
    stdout, numbers = _run_quick("bench_postgres", tmp_path)
    assert numbers["bulk_insert_rows_per_second"] > 0
    assert "| list page: text search |" in stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_server_benchmark_quick_mode(tmp_path: Path) -> None:
    _, numbers = _run_quick("bench_servers", tmp_path)
    assert numbers["granian"]["accounts"]["requests_per_second"] > 0
    assert numbers["uvicorn"]["accounts"]["non_2xx"] == 0
    for floor in ("granian + bare ASGI", "granian + Litestar"):  # the same page's bytes, no Valorize around them
        assert numbers[floor]["transactions_page"]["non_2xx"] == 0
        assert numbers[floor]["transactions_page"]["server_cpu_ms_per_request"] > 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
def test_cache_benchmark_quick_mode(tmp_path: Path) -> None:
    _, numbers = _run_quick("bench_cache", tmp_path)
    assert numbers["warm"]["hit_ratio"] > 0.9
    assert numbers["cold"]["hit_ratio"] == 0
    assert numbers["off"]["hit_ratio"] is None


@pytest.mark.slow
def test_user_path_benchmark_quick_mode(tmp_path: Path) -> None:
    stdout, numbers = _run_quick("bench_user_path", tmp_path)
    for backend in ("memory", "postgres"):
        rates = {key: value for key, value in numbers[backend].items() if key != "cpu"}  # "cpu": per phase
        assert rates, numbers
        assert all(rate > 0 for rate in rates.values()), numbers
    assert "| import_rows_per_s |" in stdout


@pytest.mark.slow
def test_drain_benchmark_quick_mode(tmp_path: Path) -> None:
    _, numbers = _run_quick("bench_drain", tmp_path)
    assert (numbers["lost"], numbers["duplicated"], numbers["left_in_queue"]) == (0, 0, 0)


@pytest.mark.slow
def test_realtime_benchmark_quick_mode(tmp_path: Path) -> None:
    _, stages = _run_quick("bench_realtime", tmp_path)
    assert all(s["received"] == s["expected"] > 0 for s in stages)


@pytest.mark.slow
def test_fanout_benchmark_quick_mode(tmp_path: Path) -> None:
    _, stages = _run_quick("bench_fanout", tmp_path)
    assert all(s["received"] == s["expected"] > 0 and s["latency_samples"] > 0 for s in stages)


@pytest.mark.slow
@pytest.mark.skipif(_without_bench("beancount", "smart_importer"), reason=BENCH_EXTRA)
def test_categorization_benchmark_quick_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "categorization" / "bench_categorization.py"), "--quick", "--output",
         str(tmp_path / "cat.json")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads((tmp_path / "cat.json").read_text())
    assert "always answering" in result.stdout
    assert "observed precision" in result.stdout
    assert numbers["summary"]["all"]["rows"] > 0
    assert numbers["summary"]["all"]["explained"] == 1.0  # every decision says why, abstentions too
    assert numbers["summary"]["reliability"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs it)")
@pytest.mark.skipif(_without_bench("matplotlib"), reason=BENCH_EXTRA)
def test_experiments_quick_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "experiments.py"), "--quick", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads((tmp_path / "experiments.json").read_text())
    assert (numbers["async"]["lost"], numbers["async"]["duplicated"]) == (0, 0)
    for name in ("read", "mixed"):
        assert (tmp_path / f"{name}.csv").exists()
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        assert all(stage["req_s"] > 0 for stage in numbers[name]["stages"])
    assert "| read |" in result.stdout
    for side in ("project", "floor"):  # the floors, measured in the same run
        assert set(numbers["paths"][side]) == {"hit", "miss", "write"}
        assert all(path["requests"] > 0 and not path["errors"] for path in numbers["paths"][side].values())
    assert numbers["paths"]["ratios"]["write"]["api"] > 0
    assert (tmp_path / "floors.csv").exists()
    assert "| write |" in result.stdout


@pytest.mark.slow
def test_write_path_benchmark_quick_mode(tmp_path: Path) -> None:
    stdout, numbers = _run_quick("bench_write_path", tmp_path)
    for measure in ("http", "use_case", "commit"):
        assert numbers[f"{measure}_cpu_ms_per_write"] > 0
    assert "| bare unit of work: record, commit, leave |" in stdout


@pytest.mark.slow
def test_write_costs_benchmark_quick_mode(tmp_path: Path) -> None:
    stdout, numbers = _run_quick("bench_write_costs", tmp_path)
    for side in ("project", "floor"):
        assert numbers[side]["write"]["api_cpu_ms"] > 0
        assert numbers[side]["write"]["transactions"] > 0
        assert numbers[side]["miss"]["api_cpu_ms"] > 0
        assert numbers[side]["hit"]["api_cpu_ms"] > 0
    assert "API CPU (ms) |" in stdout


@pytest.mark.slow
def test_write_schema_benchmark_quick_mode(tmp_path: Path) -> None:
    stdout, numbers = _run_quick("bench_write_schema", tmp_path)
    for side in ("project, before", "floor, before", "project, after", "floor, after"):
        assert numbers["results"][side]["wal_bytes"] > 0
    assert "project ÷ floor, PostgreSQL CPU" in stdout


@pytest.mark.slow
def test_subscription_benchmark_quick_mode(tmp_path: Path) -> None:
    stdout, numbers = _run_quick("bench_subscriptions", tmp_path)
    assert numbers["histories"] == 10
    assert numbers["precision"] > 0.9
    assert numbers["recall"] > 0.9
    assert "| precision |" in stdout


@pytest.mark.slow
def test_soak_quick_mode(tmp_path: Path) -> None:
    output = tmp_path / "soak.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "soak.py"), "--quick", "--output", str(output),
         "--worker-env", "MALLOC_ARENA_MAX=2", "--realtime", "--subscribers", "1"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    numbers = json.loads(output.read_text())
    assert numbers["counts"]["ok"] > 0
    assert all(numbers["counts"][f"http_{code}"] == 0 for code in (500, 503))
    assert set(numbers["imports"]) == {202}
    assert len(numbers["samples"]) >= 3
    kinds = [numbers["samples"][-1][f"worker_{kind}_mb"] for kind in ("brk", "anon", "file")]
    assert all(size > 0 for size in kinds)
    rss = numbers["samples"][-1]["rss_mb_worker"]
    assert abs(sum(kinds) - rss) <= 0.1 * rss  # the same pages split by mapping (read a moment apart)
    assert numbers["settings"]["worker_env"] == ["MALLOC_ARENA_MAX=2"]
    assert "| api RSS (MB) |" in result.stdout
    # The third role: valorize realtime on redis-server, its memory and /metrics, and the events
    # its WebSocket subscribers (one per tenant, five tenants) counted.
    last = numbers["samples"][-1]
    assert last["rss_mb_realtime"] > 0
    assert last["realtime_connections"] == 5
    assert last["realtime_deliveries"] > 0
    assert last["realtime_gaps"] == 0
    assert numbers["events"]["subscribed"] == 5
    assert numbers["events"]["transaction.created"] > 0
    assert "| realtime RSS (MB) |" in result.stdout
