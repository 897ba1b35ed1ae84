"""The one way tests and benchmarks run a server in a process of its own
(``valorize_entrypoints.testing.ServerProcess``, behind ``RoleProcess``, ``dev_serving`` and
``start_worker_process``), driven against Python's own ``http.server``."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import Readiness, ServerProcess

ROOT = Readiness("/")


def _http_server(
    port: int,
    tmp_path: Path,
    *,
    ready: Readiness = ROOT,
    startup_seconds: float = 60,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> ServerProcess:
    """``python -m http.server`` under a shell that first starts a child of its own (``sleep``, in
    the same process group) and prints its pid."""
    shell = f"sleep 300 & echo child $!; exec {sys.executable} -u -m http.server {port} --bind 127.0.0.1"
    return ServerProcess(
        "http.server", ["sh", "-c", shell], port, {"PATH": os.environ["PATH"]}, tmp_path / "server.log",
        ready=ready, startup_seconds=startup_seconds, stop_signal=stop_signal,
    )  # fmt: skip


def _gone(pid: int, seconds: float = 5) -> bool:
    """Whether ``pid`` ended (exited, or a zombie nobody reaped yet) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def _children(server: ServerProcess) -> list[int]:
    return [int(pid) for pid in re.findall(r"child (\d+)", server.output)]


def test_start_is_ready_and_stop_signals_then_sweeps_the_group(tmp_path: Path) -> None:
    server = _http_server(free_port(), tmp_path)
    with server:
        assert httpx.get(server.url + "/", timeout=5).status_code == 200
        proc = server.proc
        assert proc is not None
        (child,) = _children(server)
        assert not _gone(child, 0.2)
    assert proc.returncode == -signal.SIGTERM
    assert _gone(child), "the server's own child outlived it"
    assert server.proc is None


def test_a_ctrl_c_stop(tmp_path: Path) -> None:
    with _http_server(free_port(), tmp_path, stop_signal=signal.SIGINT) as server:
        proc = server.proc
    assert proc is not None
    assert proc.returncode == 0  # http.server's KeyboardInterrupt: a clean exit
    assert "Keyboard interrupt received" in server.output


def test_killed_and_started_again_on_the_same_port(tmp_path: Path) -> None:
    server = _http_server(free_port(), tmp_path).start()
    try:
        first = server.proc
        assert first is not None
        server.kill()
        assert first.returncode == -signal.SIGKILL
        assert _gone(_children(server)[0])
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url + "/", timeout=2)
        server.start()
        assert httpx.get(server.url + "/", timeout=5).status_code == 200
        assert server.output.count("Serving HTTP on") == 2  # the log goes on across restarts
    finally:
        server.stop()


def test_a_server_that_exits_at_start_is_reported_with_its_output(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", "import sys; print('no configuration'); sys.exit(3)"]
    server = ServerProcess("broken", command, port, {"PATH": os.environ["PATH"]}, tmp_path / "broken.log")
    with pytest.raises(RuntimeError, match=r"broken did not start \(exited with 3\):\nno configuration"):
        server.start()
    assert server.proc is None


def test_readiness_wants_200_unless_any_answer_will_do(tmp_path: Path) -> None:
    port = free_port()
    never = _http_server(port, tmp_path, ready=Readiness("/missing"), startup_seconds=1)
    with pytest.raises(RuntimeError, match=r"http.server did not start \(not ready within 1 s\)"):
        never.start()  # /missing answers 404
    assert never.proc is None
    assert _gone(_children(never)[0])
    with _http_server(port, tmp_path, ready=Readiness("/missing", any_status=True)) as server:
        assert httpx.get(server.url + "/missing", timeout=5).status_code == 404
