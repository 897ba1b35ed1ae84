"""Action: accept a statement file for import; the import task runs it later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from valorize_core.actions._shared import require
from valorize_core.context import Ports
from valorize_core.errors import ValidationError
from valorize_core.events import ImportRequested
from valorize_core.statements.imports import ImportStatus, StatementImport
from valorize_core.text import clean_text

__all__ = ["ImportRequest", "RequestImport"]

MAX_FILE_BYTES = 10_000_000


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A statement file for an account: its format (``csv`` needs a ``mapping``; ``ofx`` none)
    and whether bad rows are skipped."""

    tenant_id: UUID
    account_id: UUID
    filename: str
    content: bytes
    mapping: dict[str, Any]
    skip_invalid_rows: bool = False
    format: str = "csv"


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
        parser = self._ports.parsers.get(command.format)
        if parser is None:
            raise ValidationError.for_field("format", f"must be one of {', '.join(sorted(self._ports.parsers))}")
        options: dict[str, Any] = {"skip_invalid_rows": bool(command.skip_invalid_rows)}
        if command.mapping:
            options["mapping"] = dict(command.mapping)
        parser.check_options(options)
        record = StatementImport(
            id=self._ports.ids.new_id(),
            tenant_id=command.tenant_id,
            account_id=command.account_id,
            filename=clean_text(command.filename, "filename", 255) or "statement.csv",
            status=ImportStatus.PENDING,
            created_at=self._ports.clock.now(),
        )
        async with self._ports.uow(command.tenant_id) as uow:
            await require(uow.accounts.get, command.account_id, "account")
            await uow.imports.add(record)
            await uow.imports.save_source(record.id, command.format, command.content, options)
            uow.record(
                self._ports.event(
                    ImportRequested, command.tenant_id, import_id=str(record.id), account_id=str(record.account_id)
                )
            )
            await uow.commit()
        return record
