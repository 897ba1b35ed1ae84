"""Statement imports: upload (202, the import task runs it) and status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from valorize_core.model.errors import ValidationError
from valorize_core.use_cases.actions.import_statement import ImportRequest
from valorize_core.use_cases.queries.get_import import ImportLookup
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.body_limits import MAX_JSON_DEPTH, json_too_deep
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS, accepted


@dataclass
class ImportForm:
    """``file``: the statement; ``format``: ``csv`` (default) or ``ofx``; ``mapping`` (CSV only):
    JSON of the column mapping (``date_column``,
    ``description_column``, ``amount_column`` or ``debit_column``/``credit_column``,
    ``date_format``, ``decimal_style``, ``delimiter``, ``has_header``, ``skip_lines``,
    ``invert_sign``)."""

    file: UploadFile
    account_id: UUID
    format: str = "csv"
    mapping: str = ""
    skip_invalid_rows: bool = False


def _mapping(raw: str) -> dict[str, Any]:
    """The ``mapping`` form field: JSON outside the body guard, so decoded here under the same
    depth limit, by msgspec (a lone surrogate is no text it takes)."""
    if not raw:
        return {}
    encoded = raw.encode("utf-8", "surrogatepass")
    if json_too_deep(encoded, MAX_JSON_DEPTH):
        raise ValidationError.for_field("mapping", f"JSON may nest at most {MAX_JSON_DEPTH} levels deep")
    try:
        mapping = msgspec.json.decode(encoded)
    except msgspec.DecodeError:
        raise ValidationError.for_field("mapping", "must be a JSON object") from None
    if not isinstance(mapping, dict):
        raise ValidationError.for_field("mapping", "must be a JSON object")
    return mapping


class ImportController(Controller):
    path = "/api/imports"
    tags = ("imports",)

    @post(responses=ERRORS, status_code=202, summary="Upload a CSV statement; it is imported in the background")
    async def upload(
        self,
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        vz: VZ,
        writer: Writer,
    ) -> Response[s.ImportOut]:
        mapping = _mapping(data.mapping)
        content = await data.file.read()
        command = ImportRequest(
            writer.tenant_id, data.account_id, data.file.filename, content, mapping, data.skip_invalid_rows, data.format
        )
        pending = await vz.request_import(command)
        return accepted(s.statement_import(pending), f"/api/imports/{pending.id}")

    @get("/{import_id:uuid}", responses=ERRORS, summary="An import: status, counts and per-row errors")
    async def get_import(self, import_id: FromPath[UUID], vz: VZ, actor: Reader) -> s.ImportOut:
        return s.statement_import(await vz.get_import(ImportLookup(actor.tenant_id, import_id)))
