"""``valorize dev`` as a user runs it: a subprocess on embedded PostgreSQL, driven by the
README's curl walkthrough exactly as written."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from valorize_entrypoints.testing import dev_serving

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_valorize_dev_serves_the_readme_walkthrough(tmp_path: Path) -> None:
    with dev_serving(tmp_path) as dev:
        base, ws_port, printed = dev.base, dev.realtime_port, dev.output
        env = dev.env
        assert httpx.get(f"{base}/api/accounts", headers={"Authorization": f"Bearer {dev.token}"}).status_code == 200
        assert f"ws://127.0.0.1:{ws_port}/app/valorize-key" in printed
        with connect(f"ws://127.0.0.1:{ws_port}/app/valorize-key?protocol=7") as ws:
            assert json.loads(ws.recv(5))["event"] == "pusher:connection_established"

        readme = (ROOT / "README.md").read_text()
        block = re.search(r"## Try the API\n.*?```bash\n(.*?)```", readme, re.S)
        assert block
        # As written, twice in a row (a new tenant each run), then twice in the demo tenant with
        # the token valorize dev printed (its categories are found by name the second time).
        tokens = [{}, {}, {"VALORIZE_TOKEN": dev.token}, {"VALORIZE_TOKEN": dev.token}]
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
        demo_auth = {"Authorization": f"Bearer {dev.token}"}
        names = [c["name"] for c in httpx.get(f"{base}/api/categories", headers=demo_auth).json()]
        assert names.count("Food") == 1  # reused by the second run, not added again
    assert dev.proc.returncode in (0, -signal.SIGINT, 130), dev.output[-3000:]
    # A clean stop: the dispatcher's HTTP client (and everything else) closed, nothing leaked.
    assert "Unclosed" not in dev.output
