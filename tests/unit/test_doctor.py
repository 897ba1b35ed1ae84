"""``valorize doctor`` against the real dependencies, healthy and broken: one line per check."""

from __future__ import annotations

import os
import socket

import pytest
from click.testing import CliRunner

from valorize_entrypoints.cli import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _doctor(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, str]]:
    for name in [n for n in os.environ if n.startswith("VALORIZE_") and not n.startswith("VALORIZE_TEST_")]:
        monkeypatch.delenv(name)
    result = CliRunner().invoke(main, ["doctor"], env=env)
    lines = {line.split()[1]: line for line in result.output.splitlines()}
    return result.exit_code, lines


def test_a_healthy_deployment_is_all_ok(own_database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"VALORIZE_DATABASE_URL": own_database_url, "VALORIZE_REDIS_URL": redis_url,
           "VALORIZE_WORKER_URL": "http://worker:8080", "VALORIZE_WORKER_SECRET": "s" * 20,
           "VALORIZE_PUSHER_SECRET": "p" * 32}  # fmt: skip
    code, lines = _doctor(env, monkeypatch)
    assert code == 0, lines
    assert set(lines) == {"configuration", "postgres", "pgvector", "migrations", "redis", "task", "realtime"}
    assert all(line.startswith("ok ") for line in lines.values()), lines
    assert "PostgreSQL 16" in lines["postgres"]
    assert "all " in lines["migrations"]
    assert "Redis " in lines["redis"]
    assert "0 queued" in lines["task"]
    assert "dead letter(s)" in lines["task"]


def test_each_broken_dependency_is_one_failing_line(own_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"VALORIZE_DATABASE_URL": own_database_url, "VALORIZE_REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"}
    code, lines = _doctor(env, monkeypatch)
    assert code == 1
    assert lines["redis"].startswith("fail")
    assert "does not answer" in lines["redis"]
    assert lines["postgres"].startswith("ok")
    assert lines["realtime"].startswith("warn")
    assert "VALORIZE_PUSHER_SECRET" in lines["realtime"]
    assert lines["task"].startswith("warn")
    assert "VALORIZE_WORKER_URL" in lines["task"]

    code, lines = _doctor({"VALORIZE_DATABASE_URL": f"postgresql://x@127.0.0.1:{_closed_port()}/x"}, monkeypatch)
    assert code == 1
    assert lines["postgres"].startswith("fail")
    assert "refused" in lines["postgres"].lower()
    assert lines["task"].startswith("fail")

    code, lines = _doctor({"VALORIZE_PORT": "eighty", "VALORIZE_TASK_QUEUE": "local"}, monkeypatch)
    assert code == 1
    assert list(lines) == ["configuration"]
    assert "VALORIZE_PORT must be an integer, not 'eighty'" in lines["configuration"]
