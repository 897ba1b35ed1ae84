"""The ECB's eurofxref files as a :class:`~valorize_core.ports.rates.RateSource`.

The operator names the file: a path, or an ``https://`` URL (the ECB's own are
``https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip`` and friends; ``.zip`` archives
holding one CSV or XML are opened). Nothing is fetched unless a URL is given; reading is bounded
(:data:`~valorize_core.model.ecb.MAX_ECB_BYTES`) and a download times out.
"""

from __future__ import annotations

import asyncio
import io
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from valorize_core.model.ecb import MAX_ECB_BYTES, parse_ecb
from valorize_core.model.errors import ValidationError
from valorize_core.model.rates import Rate

__all__ = ["EcbRateFile"]

DOWNLOAD_TIMEOUT_S = 30.0


@dataclass(slots=True)
class EcbRateFile:
    """Rates from an ECB eurofxref CSV or XML file (or a ZIP of one), by path or URL."""

    location: str
    skipped: tuple[str, ...] = field(default=(), init=False)
    name: str = field(default="ecb", init=False)

    async def rates(self) -> Sequence[Rate]:
        data = await asyncio.to_thread(self._read)
        parsed = parse_ecb(_unzipped(data))
        self.skipped = parsed.skipped
        return parsed.rates

    def _read(self) -> bytes:
        if self.location.startswith(("https://", "http://")):
            request = urllib.request.Request(self.location, headers={"User-Agent": "valorize"})
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
                data: bytes = response.read(MAX_ECB_BYTES + 1)
        elif "://" in self.location:
            raise ValidationError.for_field("file", "give a path or an http(s) URL")
        else:
            with Path(self.location).open("rb") as handle:
                data = handle.read(MAX_ECB_BYTES + 1)
        if len(data) > MAX_ECB_BYTES:
            raise ValidationError.for_field("file", f"an ECB file is at most {MAX_ECB_BYTES} bytes")
        return data


def _unzipped(data: bytes) -> bytes:
    if not data.startswith(b"PK"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1 or members[0].file_size > MAX_ECB_BYTES:
                raise ValidationError.for_field("file", "a ZIP of one ECB file, at most 32 MiB unpacked")
            with archive.open(members[0]) as member:
                return member.read(MAX_ECB_BYTES + 1)
    except zipfile.BadZipFile:
        raise ValidationError.for_field("file", "not a ZIP archive") from None
