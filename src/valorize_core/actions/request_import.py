"""Action: accept a statement file for import; the import task runs it later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from valorize_core.actions._shared import require
from valorize_core.context import Ports
from valorize_core.errors import ValidationError
from valorize_core.events import ImportRequested
from valorize_core.statements.csv import CsvMapping
from valorize_core.statements.imports import ImportStatus, StatementImport
from valorize_core.text import clean_text

__all__ = ["ImportRequest", "RequestImport"]

MAX_FILE_BYTES = 10_000_000


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A CSV file for an account, the mapping to read it, and whether bad rows are skipped."""

    tenant_id: UUID
    account_id: UUID
    filename: str
    content: bytes
    mapping: dict[str, Any]
    skip_invalid_rows: bool = False


class RequestImport:
    """Stores a pending import with its file and records ``ImportRequested`` (the task follows)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: ImportRequest) -> StatementImport:
        """Validate and accept the file; returns the pending import."""
        if not command.content:
            raise ValidationError.for_field("file", "the file is empty")
        if len(command.content) > MAX_FILE_BYTES:
            raise ValidationError.for_field("file", f"files are at most {MAX_FILE_BYTES} bytes")
        try:
            command.content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError.for_field("file", "the file is not UTF-8 text") from None
        try:
            CsvMapping(**command.mapping)
        except TypeError as exc:
            raise ValidationError.for_field("mapping", f"unknown or missing field: {exc}") from None
        record = StatementImport(
            id=self._ports.ids.new_id(),
            tenant_id=command.tenant_id,
            account_id=command.account_id,
            filename=clean_text(command.filename, "filename", 255) or "statement.csv",
            status=ImportStatus.PENDING,
            created_at=self._ports.clock.now(),
        )
        options = {"mapping": dict(command.mapping), "skip_invalid_rows": bool(command.skip_invalid_rows)}
        async with self._ports.uow(command.tenant_id) as uow:
            await require(uow.accounts.get, command.account_id, "account")
            await uow.imports.add(record)
            await uow.imports.save_source(record.id, "csv", command.content, options)
            uow.record(
                self._ports.event(
                    ImportRequested, command.tenant_id, import_id=str(record.id), account_id=str(record.account_id)
                )
            )
            await uow.commit()
        return record
