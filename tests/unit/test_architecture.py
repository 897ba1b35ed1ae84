"""The layers are enforced by import-linter, run here as a test."""

from __future__ import annotations

import sys
import textwrap
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports
from importlinter.contracts.layers import LayersContract

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


def _rooms_contract() -> LayersContract:
    """The core's rooms contract exactly as pyproject.toml declares it, but for ``fakerooms``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (options,) = [c for c in config["contracts"] if c["type"] == "layers" and c.get("containers") == ["valorize_core"]]
    options = {key: value for key, value in options.items() if key not in ("name", "type", "ignore_imports")}
    options["exhaustive"] = str(options["exhaustive"])
    return LayersContract("rooms", {"root_packages": ["fakerooms"]}, {**options, "containers": ["fakerooms"]})


@pytest.fixture
def fake_rooms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package shaped like the core: one module per room, each importing the room below."""
    pkg = tmp_path / "fakerooms"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    rooms = ["testing", "runtime", "app", "use_cases", "ports", "model"]
    for room, below in zip(rooms, [*rooms[1:], None], strict=True):
        body = f"import fakerooms.{below}\n" if below else ""
        if room == "app":
            (pkg / "app.py").write_text(body)
        else:
            (pkg / room).mkdir()
            (pkg / room / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return pkg


def _rooms_kept(pkg: Path) -> bool:
    graph = grimp.build_graph(pkg.name, cache_dir=None)
    return _rooms_contract().check(graph, verbose=False).kept


def test_rooms_contract_keeps_a_core_whose_imports_point_down(fake_rooms: Path) -> None:
    assert _rooms_kept(fake_rooms)


def test_rooms_contract_catches_an_upward_import(fake_rooms: Path) -> None:
    (fake_rooms / "model" / "money.py").write_text("import fakerooms.runtime\n")
    assert not _rooms_kept(fake_rooms)


def test_rooms_contract_catches_a_module_without_a_room(fake_rooms: Path) -> None:
    (fake_rooms / "relay.py").write_text("")
    assert not _rooms_kept(fake_rooms)
