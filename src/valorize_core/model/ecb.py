"""The European Central Bank's euro foreign exchange reference rates, parsed exactly.

The ECB publishes, each working day, how many units of about 30 currencies one euro buys, in
four files of two formats (https://www.ecb.europa.eu/stats/eurofxref/):

- **CSV**: ``eurofxref.csv`` (the day: a ``Date`` header of currency codes, then one row whose
  date is written ``04 December 2026``; fields are followed by ``", "``) and
  ``eurofxref-hist.csv`` (every day since 1999, ISO dates, ``N/A`` where a currency had no
  rate that day);
- **XML**: ``eurofxref-daily.xml``, ``eurofxref-hist-90d.xml`` and ``eurofxref-hist.xml``: a
  gesmes envelope holding ``<Cube time="2026-12-04">`` cubes of ``<Cube currency="USD"
  rate="1.0512"/>``.

:func:`parse_ecb` reads any of them (the format is recognised from the first bytes) into
:class:`~valorize_core.model.rates.Rate` values ``EUR → code``, source ``ecb``. Rates are read
as decimal text, never floats. Codes Valorize does not know as ISO 4217 currencies are skipped
and reported; any other malformation refuses the whole file (:class:`ValidationError`). XML
with a document type declaration is refused before parsing (no entity expansion).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree

from valorize_core.model.errors import InvalidMoney, ValidationError
from valorize_core.model.money import currency
from valorize_core.model.rates import Rate, parse_rate

__all__ = ["MAX_ECB_BYTES", "EcbRates", "parse_ecb"]

MAX_ECB_BYTES = 32 * 1024 * 1024
"""Larger than the full history (about 7 MB of CSV, 40 MB unzipped XML is refused: use the CSV)."""

SOURCE = "ecb"
_CUBE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}Cube"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EcbRates:
    """What a file held: the rates, and the codes skipped because they are not known currencies."""

    rates: list[Rate]
    skipped: tuple[str, ...]


def parse_ecb(data: bytes) -> EcbRates:
    """The rates of an ECB eurofxref CSV or XML file (see the module)."""
    if len(data) > MAX_ECB_BYTES:
        raise ValidationError.for_field("file", f"an ECB file is at most {MAX_ECB_BYTES} bytes")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _xml(head)
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise ValidationError.for_field("file", "not an ECB eurofxref file (CSV is ASCII)") from None
    return _csv(text)


class _Collector:
    def __init__(self) -> None:
        self.rates: list[Rate] = []
        self.skipped: set[str] = set()
        self._known: dict[str, bool] = {}

    def add(self, code: str, day: date, raw: str, where: str) -> None:
        code = code.strip()
        known = self._known.get(code)
        if known is None:
            try:
                known = currency(code).code == code and code != "EUR"
            except InvalidMoney:
                known = False
            self._known[code] = known
        if not known:
            self.skipped.add(code[:10])
            return
        try:
            self.rates.append(Rate(currency("EUR"), currency(code), day, parse_rate(raw.strip()), SOURCE))
        except ValidationError as exc:
            raise ValidationError.for_field("file", f"{where}: {code} {exc.message}") from None

    def result(self) -> EcbRates:
        if not self.rates:
            raise ValidationError.for_field("file", "the file holds no rate")
        return EcbRates(self.rates, tuple(sorted(self.skipped)))


_MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"), start=1)}  # fmt: skip
_SPELLED = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4})")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(text: str, where: str) -> date:
    """``2026-12-04`` or ``04 December 2026`` (English month names whatever the locale: ``%B``
    would follow the process's)."""
    text = text.strip()
    try:
        spelled = _SPELLED.fullmatch(text)
        if spelled and spelled.group(2).lower() in _MONTHS:
            return date(int(spelled.group(3)), _MONTHS[spelled.group(2).lower()], int(spelled.group(1)))
        if _ISO.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValidationError.for_field("file", f"{where}: {text[:30]!r} is not a date")


def _csv(text: str) -> EcbRates:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0] or rows[0][0].strip() != "Date":
        raise ValidationError.for_field("file", "not an ECB eurofxref CSV (the first column is Date)")
    header = [h.strip() for h in rows[0]]
    out = _Collector()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {number}"
        day = _day(row[0], where)
        for code, cell in zip(header[1:], row[1:], strict=False):
            if not code or not cell.strip() or cell.strip() == "N/A":
                continue
            out.add(code, day, cell, where)
    return out.result()


def _xml(data: bytes) -> EcbRates:
    if _DTD.search(data):
        raise ValidationError.for_field("file", "XML with a document type declaration is refused")
    try:
        root = ElementTree.fromstring(data)  # no DTD (checked above): no entity to expand
    except ElementTree.ParseError as exc:
        raise ValidationError.for_field("file", f"not well-formed XML: {exc}") from None
    out = _Collector()
    days = [cube for cube in root.iter(_CUBE) if "time" in cube.attrib]
    if not days:
        raise ValidationError.for_field("file", "not an ECB eurofxref XML (no <Cube time=…>)")
    for cube in days:
        where = f"Cube time={cube.attrib['time'][:30]!r}"
        day = _day(cube.attrib["time"], where)
        for item in cube:
            code, raw = item.attrib.get("currency"), item.attrib.get("rate")
            if item.tag != _CUBE or code is None or raw is None:
                raise ValidationError.for_field("file", f"{where}: a rate needs currency and rate")
            out.add(code, day, raw, where)
    return out.result()
