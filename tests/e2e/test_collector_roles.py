"""Each production role tunes its garbage collector as ``VALORIZE_GC_THRESHOLD`` says (collector.py):
read from the ``/metrics`` of ``valorize api --workers 2``, ``valorize worker`` and ``valorize
realtime`` started as production starts them; 0 leaves Python's collector as it is."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import RoleProcess

SRC = Path(__file__).resolve().parents[2] / "src"


def _collector(text: str) -> tuple[set[float], set[float], float]:
    """The generation-0 thresholds, the frozen-object counts and the passes counted on ``/metrics``."""
    thresholds = re.findall(r'^valorize_gc_threshold\{generation="0"[^}]*\} (\S+)$', text, re.M)
    frozen = re.findall(r"^valorize_gc_frozen_objects(?:\{[^}]*\})? (\S+)$", text, re.M)
    passes = re.findall(r"^valorize_gc_passes_total\{[^}]*\} (\S+)$", text, re.M)
    return {float(t) for t in thresholds}, {float(f) for f in frozen}, sum(float(p) for p in passes)


@pytest.mark.slow
@pytest.mark.parametrize("threshold", [4321, 0])
def test_every_role_applies_the_configured_collector(tmp_path: Path, redis_server: Any, threshold: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(PYTHONPATH=str(SRC), VALORIZE_BACKEND="memory", PYTHONWARNINGS="ignore", XDG_DATA_HOME=str(tmp_path),
               TMPDIR=str(tmp_path), VALORIZE_WORKER_SECRET="gc-s3cret", VALORIZE_PUSHER_SECRET="pusher-s3cret",
               VALORIZE_GC_THRESHOLD=str(threshold), VALORIZE_REDIS_URL=redis_server.url)  # fmt: skip
    with (
        RoleProcess("api", free_port(), env, tmp_path / "api.log", workers=2) as api,
        RoleProcess("worker", free_port(), env, tmp_path / "worker.log") as worker,
        RoleProcess("realtime", free_port(), env, tmp_path / "realtime.log") as realtime,
    ):
        scrapes = {role.role: httpx.get(f"{role.url}/metrics", timeout=10).text for role in (api, worker, realtime)}
    for role, text in scrapes.items():
        thresholds, frozen, passes = _collector(text)
        assert thresholds == {threshold or 700}, (role, thresholds)  # 700: Python's own
        assert "valorize_gc_pause_seconds_total" in text, role
        if threshold:
            assert min(frozen) > 10_000, (role, frozen)  # startup's modules, app and container
            assert passes > 0, role  # at least the full pass before the freeze is counted
        else:
            assert frozen == {0.0}, (role, frozen)
