"""The ``valorize`` script's entry point: the CLI, or which extra to install when it is missing.

``pip install valorize`` (the core: the domain library, standard library only) installs the
script too; the CLI itself needs the ``api`` extra (click, Litestar, psycopg, ...). This module
imports nothing outside the standard library until it knows they are there.
"""

from __future__ import annotations

import importlib.util
import os
import sys

__all__ = ["REQUIRED", "main", "missing"]

# The modules the CLI cannot start without, and the extra that brings them.
REQUIRED = {"click": "api", "litestar": "api", "msgspec": "api", "dependency_injector": "api", "psycopg": "api",
            "structlog": "api", "rich": "api"}  # fmt: skip


def missing() -> list[str]:
    """The CLI's required modules that are not installed."""
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def main() -> None:
    """Run the ``valorize`` command, or say which extra to install and exit 1."""
    absent = missing()
    if absent:
        extras = sorted({REQUIRED[name] for name in absent})
        sys.stderr.write(
            f"valorize: the command line needs the {', '.join(extras)} extra (missing: {', '.join(absent)}).\n"
            f"Install it with:  pip install 'valorize[{','.join(extras)}]'\n"
            "Without it, valorize is a library: see 'Use it as a library' in the README.\n"
        )
        sys.exit(1)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # multiprocess metrics (metrics.py): prometheus_client writes there from its import on
        os.makedirs(folder, exist_ok=True)
    from valorize_entrypoints.cli import main as cli

    cli()
