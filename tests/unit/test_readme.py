"""The README's library example runs exactly as written and prints what it says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs_as_written(tmp_path: Path) -> None:
    text = README.read_text()
    code = re.search(r"## Use it as a library\n.*?```python\n(.*?)```", text, re.S)
    expected = re.search(r"It prints:\n\n```text\n(.*?)```", text, re.S)
    assert code
    assert expected
    script = tmp_path / "example.py"
    script.write_text(code.group(1))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.group(1)


def test_readme_postgres_example_runs_as_written(tmp_path: Path) -> None:
    text = README.read_text()
    code = re.search(r"## The same on PostgreSQL\n.*?```python\n(.*?)```", text, re.S)
    expected = re.search(r"It prints `(.*?)`\.", text)
    assert code
    assert expected
    script = tmp_path / "example_pg.py"
    script.write_text(code.group(1))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.group(1) + "\n"


def test_readme_starts_with_setup_and_test_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
    assert first_block
    lines = first_block.group(1).splitlines()
    assert "pip install -e '.[dev]'" in lines[0]
    assert lines[0].split("#")[0].strip().endswith(".venv/bin/valorize dev")
    assert lines[1].split("#")[0].strip() == ".venv/bin/pytest"
