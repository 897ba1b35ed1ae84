"""What a statement file does not say about itself: its text encoding, its date format and its
decimal style, found from the file.

All of it is linear in the file: each detector tries a fixed, short list of candidates over the
values once.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from datetime import datetime

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import DecimalStyle

__all__ = ["DATE_FORMATS", "ENCODINGS", "decode_statement", "detect_date_format", "detect_decimal_style"]

# The encodings a mapping may declare, by the names it may use; ``auto`` detects (below).
ENCODINGS: dict[str, str] = {
    "auto": "auto",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf-16": "utf-16",
}

# Tried in this order; a day-first reading wins over a month-first one when both fit every
# date of the file (Brazilian and European banks write day first).
DATE_FORMATS = (
    "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y/%m/%d",
    "%d/%m/%y", "%d.%m.%y", "%m/%d/%y", "%Y%m%d", "%d %b %Y",
)  # fmt: skip


def decode_statement(content: bytes, encoding: str = "auto") -> str:
    """The file's text, without a byte-order mark.

    ``auto``: a BOM decides (UTF-8, UTF-16); else strict UTF-8; else Windows-1252 (how most
    Brazilian and many European banks export); else Latin-1, which decodes any byte. A declared
    encoding is decoded strictly.

    Raises:
        ValidationError: an unknown encoding, or a file that is not text in the declared one.
    """
    codec = ENCODINGS.get(encoding.strip().lower()) if isinstance(encoding, str) else None
    if codec is None:
        raise ValidationError.for_field("encoding", f"must be one of {', '.join(sorted(ENCODINGS))}")
    if codec == "auto":
        if content.startswith(codecs.BOM_UTF8):
            codec = "utf-8"
        elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            codec = "utf-16"
        else:
            for candidate in ("utf-8", "cp1252"):
                try:
                    return content.decode(candidate)
                except UnicodeDecodeError:
                    continue
            return content.decode("latin-1")
    try:
        text = content.decode(codec)
    except UnicodeDecodeError:
        raise ValidationError.for_field("file", f"the file is not {encoding} text") from None
    return text[1:] if text.startswith("\ufeff") else text


def _fits(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def detect_date_format(values: Iterable[str]) -> str | None:
    """The first of :data:`DATE_FORMATS` that reads every non-empty value, or None."""
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return None
    for fmt in DATE_FORMATS:
        if all(_fits(v, fmt) for v in present):
            return fmt
    return None


def _style_of(value: str) -> DecimalStyle | None:
    """What one amount says about its style: the last separator followed by other than three
    digits is the decimal mark; ``1.234`` or ``1,234`` alone say nothing."""
    cut = max(value.rfind(","), value.rfind("."))
    if cut < 0:
        return None
    digits = len(value) - cut - 1 - sum(1 for ch in value[cut + 1 :] if not ch.isdigit())
    if digits == 3 and ("," not in value or "." not in value):
        return None
    return "comma" if value[cut] == "," else "point"


def detect_decimal_style(values: Sequence[str]) -> DecimalStyle:
    """``comma`` when more of the values say so than say ``point``; ``point`` otherwise."""
    votes = {"comma": 0, "point": 0}
    for value in values:
        style = _style_of(value.strip())
        if style is not None:
            votes[style] += 1
    return "comma" if votes["comma"] > votes["point"] else "point"
