"""``valorize dev`` as a user runs it: a subprocess on embedded PostgreSQL, driven by the
README's curl walkthrough exactly as written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from valorize_core.testing.net import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_valorize_dev_serves_the_readme_walkthrough(tmp_path: Path) -> None:
    port, ws_port = free_port(), free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONWARNINGS": "ignore"}
    valorize = Path(sys.executable).with_name("valorize")
    log = (tmp_path / "dev.log").open("w+")
    proc = subprocess.Popen(
        [str(valorize), "dev", "--port", str(port), "--realtime-port", str(ws_port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        base = f"http://127.0.0.1:{port}"
        while True:
            assert proc.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, Path(log.name).read_text()
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        printed = Path(log.name).read_text()
        demo = re.search(r"Demo token: (vz_\S+)", printed)
        assert demo, printed
        assert (
            httpx.get(f"{base}/api/accounts", headers={"Authorization": f"Bearer {demo.group(1)}"}).status_code == 200
        )
        assert f"ws://127.0.0.1:{ws_port}/app/valorize-key" in printed
        with connect(f"ws://127.0.0.1:{ws_port}/app/valorize-key?protocol=7") as ws:
            assert json.loads(ws.recv(5))["event"] == "pusher:connection_established"

        readme = (ROOT / "README.md").read_text()
        block = re.search(r"## Try the API\n.*?```bash\n(.*?)```", readme, re.S)
        assert block
        # As written, twice in a row (a new tenant each run), then twice in the demo tenant with
        # the token valorize dev printed (its categories are found by name the second time).
        tokens = [{}, {}, {"VALORIZE_TOKEN": demo.group(1)}, {"VALORIZE_TOKEN": demo.group(1)}]
        for extra in tokens:
            walk = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block.group(1)],
                capture_output=True, text=True, timeout=60, env={**env, "VALORIZE": base, **extra}, check=False,
            )  # fmt: skip
            assert walk.returncode == 0, walk.stderr
            assert walk.stderr == ""
            lines = walk.stdout.strip().splitlines()
            assert "-180.45" in lines[0]
            assert "-50.00" in lines[0]
            assert lines[1] == "{'amount': '1269.55', 'currency': 'BRL'}"
        demo_auth = {"Authorization": f"Bearer {demo.group(1)}"}
        names = [c["name"] for c in httpx.get(f"{base}/api/categories", headers=demo_auth).json()]
        assert names.count("Food") == 1  # reused by the second run, not added again
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    assert proc.returncode in (0, -signal.SIGINT, 130), Path(log.name).read_text()[-3000:]
    # A clean stop: the dispatcher's HTTP client (and everything else) closed, nothing leaked.
    assert "Unclosed" not in Path(log.name).read_text()
