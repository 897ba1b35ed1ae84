"""A core-only install (``pip install valorize``, no extras) and the CLI's start.

A core-only environment is simulated honestly and cheaply: the interpreter runs with ``-S`` (no
site-packages: only the standard library) and the three packages on ``sys.path``, which is what
a wheel installed without extras provides. The test checks that no third-party module is found.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _core_only(code: str) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-S", "-c", prelude + code], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_a_core_only_install_runs_the_library_example() -> None:
    text = (ROOT / "README.md").read_text()
    example = re.search(r"## Use it as a library\n.*?```python\n(.*?)```", text, re.S)
    expected = re.search(r"It prints:\n\n```text\n(.*?)```", text, re.S)
    assert example
    assert expected
    check = "import importlib.util\nassert importlib.util.find_spec('click') is None, 'not a core-only environment'\n"
    result = _core_only(check + example.group(1))
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.group(1)


def test_the_script_of_a_core_only_install_says_which_extra_to_install() -> None:
    result = _core_only("import sys; sys.argv = ['valorize', '--help']\n"
                        "from valorize_entrypoints.launcher import main; main()")  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pip install 'valorize[api]'" in result.stderr
    assert "missing: click" in result.stderr


def test_the_cli_starts_without_warnings_and_without_cloud_tasks() -> None:
    """google-cloud-tasks warns at import on some Python versions (and is slow to import): the
    CLI, the API and the worker load it only when the task queue is Cloud Tasks."""
    code = (
        "import sys\n"
        "import valorize_entrypoints.cli, valorize_entrypoints.api.app, valorize_entrypoints.worker\n"
        "assert 'google.cloud.tasks_v2' not in sys.modules, 'Cloud Tasks imported at start'\n"
        "assert 'google.api_core' not in sys.modules, 'google.api_core imported at start'\n"
        "from valorize_entrypoints.launcher import main\n"
        "sys.argv = ['valorize', '--help']\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60,
                            check=False, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Usage: valorize" in result.stdout
