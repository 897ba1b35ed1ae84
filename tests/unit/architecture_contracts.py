"""An import-linter contract type: a package may import only the standard library.

import-linter's built-in contracts forbid named modules; "nothing but the standard library"
needs the inverse, so this contract walks every import of the package in the graph and
reports each one whose top-level module is neither the package itself nor in
``sys.stdlib_module_names``. A ``<package>.testing`` subpackage may also import the modules
listed in ``allow_in_testing``.
"""

from __future__ import annotations

import sys
from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class StandardLibraryOnlyContract(Contract):
    """Keeps ``package`` free of every third-party import."""

    package = fields.StringField()
    allow_in_testing = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        root = str(self.package)
        allowed_testing = {str(m) for m in self.allow_in_testing}  # type: ignore[attr-defined]
        violations: list[dict[str, Any]] = []
        for importer in sorted({root} | graph.find_descendants(root)):
            in_testing = importer == f"{root}.testing" or importer.startswith(f"{root}.testing.")
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                top = imported.split(".")[0]
                if top == root or top in sys.stdlib_module_names:
                    continue
                if in_testing and top in allowed_testing:
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = sorted({d["line_number"] for d in details})
                violations.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            lines = ", ".join(f"l.{n}" for n in v["lines"])
            output.print_error(f"{v['importer']} imports third-party {v['imported']} ({lines})", bold=False)
        output.new_line()
