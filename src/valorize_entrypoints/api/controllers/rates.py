"""Exchange rates: list, enter by hand, import an ECB file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter
from litestar.params import JSONBody as Json

from valorize_core.model.ecb import parse_ecb
from valorize_core.model.errors import ValidationError
from valorize_core.use_cases.actions.set_rates import GivenRates, NewRates, RateImport, RateInput
from valorize_core.use_cases.actions.set_reporting_currency import ReportingCurrencyChange
from valorize_core.use_cases.queries.list_rates import RatesQuery
from valorize_core.use_cases.queries.tenant_settings import SettingsQuery, TenantSettings
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # the ECB's whole history as CSV is about 2 MB


@dataclass
class EcbForm:
    """``file``: an ECB eurofxref CSV or XML file (daily, 90 days or the whole history)."""

    file: UploadFile


class RateController(Controller):
    path = "/api/rates"
    tags = ("rates",)

    @get(responses=ERRORS, summary="Exchange rates: the tenant's own and the global defaults, by day")
    async def list_rates(
        self,
        vz: VZ,
        actor: Reader,
        date_from: FromQuery[date],
        date_to: FromQuery[date],
        currency: Annotated[
            list[s.CurrencyCode] | None, QueryParameter(max_items=20, description="pairs among these (repeatable)")
        ] = None,
    ) -> list[s.RateOut]:
        rates = await vz.list_rates(RatesQuery(actor.tenant_id, date_from, date_to, tuple(currency or ())))
        return [s.rate(r) for r in rates]

    @post(responses=ERRORS, status_code=201, summary="Enter rates by hand (source manual); same pair and day: replaced")
    async def set_rates(self, data: Json[s.RatesIn], vz: VZ, writer: Writer) -> list[s.RateOut]:
        given = tuple(RateInput(r.base, r.quote, r.on, r.rate) for r in data.rates)
        return [s.rate(r) for r in await vz.set_rates(NewRates(writer.tenant_id, given))]

    @post(
        "/ecb",
        responses=ERRORS,
        status_code=200,
        summary="Import an ECB eurofxref file (CSV or XML) as the tenant's rates",
        request_max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
    )
    async def import_ecb(
        self,
        data: Annotated[EcbForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        vz: VZ,
        writer: Writer,
    ) -> s.RatesImportOut:
        content = await data.file.read()
        if len(content) > MAX_UPLOAD_BYTES:
            raise ValidationError.for_field("file", f"at most {MAX_UPLOAD_BYTES} bytes")
        parsed = await asyncio.to_thread(parse_ecb, content)  # a whole history is seconds of parsing
        source = GivenRates(tuple(parsed.rates), "ecb")
        result = await vz.import_rates(RateImport(writer.tenant_id, source))
        return s.rates_imported(result, parsed.skipped)


class SettingsController(Controller):
    path = "/api/settings"
    tags = ("rates",)

    @get(responses=ERRORS, summary="The tenant's settings: its reporting currency")
    async def get_settings(self, vz: VZ, actor: Reader) -> s.SettingsOut:
        return s.settings(await vz.tenant_settings(SettingsQuery(actor.tenant_id)))

    @patch(responses=ERRORS, summary="Set the reporting currency (reports convert into it by default; null: none)")
    async def update_settings(self, data: Json[s.SettingsIn], vz: VZ, writer: Writer) -> s.SettingsOut:
        code = await vz.set_reporting_currency(ReportingCurrencyChange(writer.tenant_id, data.reporting_currency))
        return s.settings(TenantSettings(code))
