"""The README's library example runs exactly as written and prints what it says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_readme_tells_how_to_move_the_ports_and_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """The names the README gives are the ones the code reads."""
    from click.testing import CliRunner

    from valorize_entrypoints.cli import main
    from valorize_entrypoints.settings import Settings, default_data_dir

    text = README.read_text()
    section = re.search(r"## Ports and the data folder\n(.*?)\n## ", text, re.S)
    assert section
    for name in ("VALORIZE_PORT", "VALORIZE_REALTIME_PORT", "VALORIZE_HOST", "VALORIZE_DATA_DIR", "XDG_DATA_HOME",
                 "--port", "--realtime-port", "valorize doctor"):  # fmt: skip
        assert name in section.group(1), name
    settings = Settings.from_env({"VALORIZE_PORT": "9000", "VALORIZE_REALTIME_PORT": "7001", "VALORIZE_DATA_DIR": "/x"})
    assert (settings.port, settings.realtime_port, str(settings.data_dir)) == (9000, 7001, "/x")
    help_text = CliRunner().invoke(main, ["dev", "--help"]).output
    assert "--port" in help_text
    assert "--realtime-port" in help_text
    assert CliRunner().invoke(main, ["doctor", "--help"]).exit_code == 0
    monkeypatch.setenv("XDG_DATA_HOME", "/tmp/elsewhere")
    assert str(default_data_dir()) == "/tmp/elsewhere/valorize"
