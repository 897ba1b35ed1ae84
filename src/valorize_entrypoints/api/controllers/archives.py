"""Backup and restore of the caller's tenant as a versioned JSON Lines archive (owners)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Stream

from valorize_core.model.errors import ValidationError
from valorize_core.use_cases.actions.restore_tenant import MAX_ARCHIVE_BYTES, TenantRestore
from valorize_core.use_cases.queries.backup_tenant import TenantBackup
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS

MAX_UPLOAD = 100 * 1024 * 1024  # an archive uploaded over HTTP (the CLI takes larger ones)


@dataclass
class ArchiveForm:
    """``archive``: a file ``GET /api/backup`` (or ``valorize backup``) wrote."""

    archive: UploadFile


class ArchiveController(Controller):
    tags = ("backup",)

    @get("/api/backup", responses=ERRORS, media_type="application/x-ndjson",
         summary="The whole tenant as a versioned JSON Lines archive")  # fmt: skip
    async def backup(self, vz: VZ, actor: Reader) -> Stream:
        chunks = await vz.backup_tenant(TenantBackup(actor.tenant_id))
        headers = {"Content-Disposition": 'attachment; filename="valorize-backup.jsonl"', "Cache-Control": "no-store"}
        return Stream(chunks, media_type="application/x-ndjson", headers=headers)

    @post("/api/restore", responses=ERRORS, status_code=200,
          summary="Restore an archive into this tenant, which must hold no data; all or nothing")  # fmt: skip
    async def restore(
        self, data: Annotated[ArchiveForm, Body(media_type=RequestEncodingType.MULTI_PART)], vz: VZ, writer: Writer
    ) -> s.RestoreOut:
        content = await data.archive.read(min(MAX_UPLOAD, MAX_ARCHIVE_BYTES) + 1)
        if len(content) > MAX_UPLOAD:
            raise ValidationError.for_field("archive", f"archives uploaded here are at most {MAX_UPLOAD} bytes")
        summary = await vz.restore_tenant(TenantRestore(writer.tenant_id, content))
        return s.RestoreOut(summary.version, summary.counts)
