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
from valorize_core.model.statements.presets import PRESETS
from valorize_core.model.statements.suggestion import SAMPLE_BYTES, suggest_mapping
from valorize_core.use_cases.actions.import_statement import ImportRequest
from valorize_core.use_cases.queries.get_import import ImportLookup
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.body_limits import MAX_JSON_DEPTH, json_too_deep
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS, accepted


@dataclass
class ImportForm:
    """``file``: the statement; ``format``: ``csv`` (default), ``ofx``, ``qif``, ``camt053`` or
    ``mt940``; ``mapping`` (CSV only): JSON of the column mapping (``date_column``,
    ``description_column``, ``amount_column`` or ``debit_column``/``credit_column``,
    ``date_format``, ``decimal_style``, ``delimiter``, ``has_header``, ``skip_lines``,
    ``invert_sign``, ``encoding``, ``ignore_descriptions``), or ``preset`` (CSV only): a named
    mapping, which ``mapping``'s keys override."""

    file: UploadFile
    account_id: UUID
    format: str = "csv"
    mapping: str = ""
    preset: str = ""
    skip_invalid_rows: bool = False


@dataclass
class SampleForm:
    """``file``: a CSV statement (its first lines are read)."""

    file: UploadFile


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
        if data.preset:
            mapping = {"preset": data.preset, **mapping}
        content = await data.file.read()
        command = ImportRequest(
            writer.tenant_id, data.account_id, data.file.filename, content, mapping, data.skip_invalid_rows, data.format
        )
        pending = await vz.request_import(command)
        return accepted(s.statement_import(pending), f"/api/imports/{pending.id}")

    @post(
        "/mapping-suggestion", responses=ERRORS, status_code=200, summary="A CSV column mapping suggested from a sample"
    )
    async def suggest(
        self, data: Annotated[SampleForm, Body(media_type=RequestEncodingType.MULTI_PART)], writer: Writer
    ) -> s.MappingSuggestionOut:
        return s.mapping_suggestion(suggest_mapping(await data.file.read(SAMPLE_BYTES + 1)))

    @get("/presets", responses=ERRORS, summary="The named CSV mappings of common bank exports")
    async def presets(self, actor: Reader) -> list[s.PresetOut]:
        return [s.preset(p) for p in PRESETS.values()]

    @get("/{import_id:uuid}", responses=ERRORS, summary="An import: status, counts and per-row errors")
    async def get_import(self, import_id: FromPath[UUID], vz: VZ, actor: Reader) -> s.ImportOut:
        return s.statement_import(await vz.get_import(ImportLookup(actor.tenant_id, import_id)))
