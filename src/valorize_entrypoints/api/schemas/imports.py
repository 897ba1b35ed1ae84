"""Statement imports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from msgspec import Struct

from valorize_core.model.statements.imports import BalanceCheck, StatementImport
from valorize_core.model.statements.presets import Preset
from valorize_core.model.statements.suggestion import MappingSuggestion
from valorize_entrypoints.api.schemas.common import MoneyOut, money

__all__ = ["ImportOut", "MappingSuggestionOut", "PresetOut", "mapping_suggestion", "preset", "statement_import"]


class BalanceCheckOut(Struct):
    as_of: date
    statement_balance: MoneyOut
    account_balance: MoneyOut
    difference: MoneyOut  # account minus statement; zero when they agree
    matches: bool


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
    balance_check: BalanceCheckOut | None = None  # when the statement gives a closing balance


def statement_import(i: StatementImport) -> ImportOut:
    return ImportOut(
        i.id, i.account_id, i.filename, i.status.value, i.total_rows, i.imported, i.duplicates,
        [{"line": e.line, "message": e.message} for e in i.errors], i.created_at, i.completed_at, i.updated,
        None if i.balance_check is None else _balance_check(i.balance_check),
    )  # fmt: skip


def _balance_check(c: BalanceCheck) -> BalanceCheckOut:
    return BalanceCheckOut(
        c.as_of, money(c.statement_balance), money(c.account_balance), money(c.difference), c.matches
    )


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
