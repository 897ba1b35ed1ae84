"""The package's metadata: extras split by purpose, a version from git tags, the files a
release carries."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_dev_is_what_the_tests_need_and_the_benchmarks_have_their_own_extra() -> None:
    extras = PROJECT["project"]["optional-dependencies"]
    bench = _names(extras["bench"])
    assert {"beancount", "smart-importer", "matplotlib"} <= bench
    dev = _names(extras["dev"])
    assert not dev & bench
    assert not any("bench" in r for r in extras["dev"])
    assert "valorize[api,embedded]" in extras["dev"]
    assert "pytest" in dev
    # CI runs the benchmarks' quick modes, so it installs both.
    assert "pip install --quiet -e '.[dev,bench]'" in (ROOT / ".ci" / "run").read_text()


def test_the_version_comes_from_git_tags_with_a_fallback() -> None:
    assert "version" in PROJECT["project"]["dynamic"]
    assert "version" not in PROJECT["project"]
    assert any(r.startswith("hatch-vcs") for r in PROJECT["build-system"]["requires"])
    version = PROJECT["tool"]["hatch"]["version"]
    assert version["source"] == "vcs"
    assert re.fullmatch(r"\d+\.\d+\.\d+", version["fallback-version"])


def test_licence_changelog_and_urls() -> None:
    assert PROJECT["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## \[Unreleased\]", changelog, re.M)
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= PROJECT["project"]["urls"].keys()
    assert PROJECT["project"]["scripts"]["valorize"] == "valorize_entrypoints.launcher:main"
