"""Statement imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import Struct

from valorize_core.model.statements.imports import StatementImport
from valorize_core.model.statements.presets import Preset
from valorize_core.model.statements.suggestion import MappingSuggestion

__all__ = ["ImportOut", "MappingSuggestionOut", "PresetOut", "mapping_suggestion", "preset", "statement_import"]


class ImportOut(Struct):
    id: UUID
    account_id: UUID
    filename: str
    status: str
    total_rows: int
    imported: int
    duplicates: int
    errors: list[dict[str, Any]]
    created_at: datetime
    completed_at: datetime | None
    updated: int = 0  # pending transactions this statement found posted


def statement_import(i: StatementImport) -> ImportOut:
    return ImportOut(
        i.id, i.account_id, i.filename, i.status.value, i.total_rows, i.imported, i.duplicates,
        [{"line": e.line, "message": e.message} for e in i.errors], i.created_at, i.completed_at, i.updated,
    )  # fmt: skip


class MappingSuggestionOut(Struct):
    mapping: dict[str, Any]  # send back as the upload's ``mapping``
    preset: str | None  # the preset whose header the file has, if any
    columns: list[str]
    sample: list[list[str]]


def mapping_suggestion(m: MappingSuggestion) -> MappingSuggestionOut:
    return MappingSuggestionOut(dict(m.mapping), m.preset, list(m.columns), [list(r) for r in m.sample])


class PresetOut(Struct):
    name: str
    title: str
    mapping: dict[str, Any]


def preset(p: Preset) -> PresetOut:
    return PresetOut(p.name, p.title, dict(p.mapping))
