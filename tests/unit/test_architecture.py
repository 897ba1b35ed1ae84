"""The layers are enforced by import-linter, run here as a test."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from architecture_contracts import StandardLibraryOnlyContract  # noqa: E402


def test_import_linter_contracts_are_kept() -> None:
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def _contract(package: str, **options: object) -> StandardLibraryOnlyContract:
    return StandardLibraryOnlyContract("stdlib only", {}, {"package": package, **options})


@pytest.fixture
def fake_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "fakecore"
    (pkg / "testing").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import json\nfrom dataclasses import dataclass\n")
    (pkg / "testing" / "__init__.py").write_text("import hypothesis\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return pkg


def test_contract_catches_a_third_party_import(fake_core: Path) -> None:
    (fake_core / "money.py").write_text(
        textwrap.dedent("""\
        import decimal
        import pytest
    """)
    )
    graph = grimp.build_graph("fakecore", include_external_packages=True, cache_dir=None)
    check = _contract("fakecore", allow_in_testing=["hypothesis"]).check(graph, verbose=False)
    assert not check.kept
    assert [(v["importer"], v["imported"]) for v in check.metadata["violations"]] == [("fakecore.money", "pytest")]


def test_contract_allows_stdlib_and_testing_helpers(fake_core: Path) -> None:
    graph = grimp.build_graph("fakecore", include_external_packages=True, cache_dir=None)
    assert _contract("fakecore", allow_in_testing=["hypothesis"]).check(graph, verbose=False).kept
    assert not _contract("fakecore").check(graph, verbose=False).kept
