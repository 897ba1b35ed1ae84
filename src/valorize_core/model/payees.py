"""A readable payee name and a stable dedup key from a raw bank description.

``"COMPRA CARTAO 1234 PADARIA REAL SAO PAULO BR 03/11"`` → ``"Padaria Real"``. The key is
deterministic and conservative: it removes common bank additions (card-purchase prefixes, card
and reference numbers, dates, times, store numbers, country codes). It names the payee shown on
an imported row and is part of the import's dedup fingerprint (stored fingerprints depend on it,
so it does not learn). Categorization does not use it: its payee keys are learned per tenant
(:mod:`valorize_core.model.payee_words`), so no fixed list decides what a payee is there.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["LINES_CACHED", "MAX_PAYEE", "display_payee", "payee_key"]

_PREFIXES = [
    "compra cartao debito", "compra cartao credito", "compra cartao", "compra no debito",
    "compra no credito", "compra debito", "compra credito", "compra", "pagamento de boleto",
    "pagamento", "pag boleto", "pix enviado", "pix recebido", "pix transf", "pix", "ted", "doc",
    "transferencia enviada", "transferencia recebida", "transf", "debito automatico",
    "deb autom", "debit card purchase", "card purchase", "pos purchase", "pos debit",
    "purchase authorized on", "recurring payment", "pos", "ach debit", "ach credit",
    "debit", "credit", "visa", "mastercard", "elo", "paypal \\*", "sq \\*", "tst\\*",
]  # fmt: skip
_PREFIX_RE = re.compile(r"^(?:(?:" + "|".join(p.replace(" ", r"\s+") for p in _PREFIXES) + r")(?:\b|(?<=\*))\s*)+")
_NOISE = [
    re.compile(r"\bparc(?:ela)?\s*\d+\s*/\s*\d+\b"),  # instalments "parc 1/3"
    re.compile(r"\b\d{1,2}[/\-.]\d{1,2}(?:[/\-.]\d{2,4})?\b"),  # dates 03/11, 03-11-2024
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # ISO dates
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),  # times
    re.compile(r"[x*#]+\d+\b"),  # masked card numbers, store numbers: ****1234, #123
    re.compile(r"\b(?:card|cartao|ref|id|nsu|auth|aut|doc|parc(?:ela)?)\s*[:#]?\s*\w*\d\w*\b"),
    re.compile(r"\b\d+/\d+\b"),  # instalments 1/3
    re.compile(r"\b\w*\d{3,}\w*\b"),  # long numbers and codes with digits
    re.compile(r"\b\d+\b"),  # any remaining bare number
]
_TRAILING_PLACE = re.compile(r"(?:\s+(?:br|bra|brasil|brazil|us|usa|gb|uk|pt|de|fr|es)){1}\s*$")
_STATE = re.compile(
    r"\s+(?:sao paulo|rio de janeiro|belo horizonte|porto alegre|curitiba|erechim|brasilia|"
    r"salvador|recife|fortaleza|new york|london)?\s*(?:sp|rj|mg|rs|pr|sc|ba|pe|ce|df|go|es|ny|ca|tx)?\s*$"
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


LINES_CACHED = 1 << 12
"""How many lines the per-process caches of :func:`payee_key` and of
:func:`~valorize_core.model.payee_words.words` keep. An import asks each of its lines' key and
words three times, all within the import, and seldom a line another import had: a bound of one
import's lines keeps those hits (``perf/payee_caches.py``). A larger one kept nothing more but
tens of thousands of small strings alive across imports, scattered among each import's
short-lived objects, and the worker's memory crept up (``perf/README.md``, the soak)."""


@lru_cache(maxsize=LINES_CACHED)
def payee_key(description: str) -> str:
    """The normalized key of a description: lower-case ASCII words without bank noise (pure, so
    cached: an import asks for the same description's key several times). A key is its own key:
    the passes repeat until nothing changes (unusual Unicode can uncover more noise)."""
    key = _key_once(description)
    for _ in range(3):
        again = _key_once(key)
        if again == key:
            break
        key = again
    return key


def _key_once(description: str) -> str:
    text = _fold(description)
    text = re.sub(r"[^\w\s*#/:.\-]", " ", text)
    text = " ".join(text.split())
    text = _PREFIX_RE.sub("", text)
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    text = re.sub(r"[*#/:.\-_]", " ", text)
    text = " ".join(text.split())
    for _ in range(2):
        text = _TRAILING_PLACE.sub("", text).strip()
        stripped = _STATE.sub("", text).strip()
        if stripped:  # never strip a description down to nothing
            text = stripped
    text = _PREFIX_RE.sub("", text).strip()
    return text or " ".join(_fold(description).split())


MAX_PAYEE = 200
"""The longest payee a transaction holds (characters); a description may be longer (500)."""


def display_payee(description: str) -> str:
    """A readable payee name derived from a description: its key in title case, cut to
    :data:`MAX_PAYEE` at the last word boundary (or, when that would drop more than half, at a
    character), so a payee derived from any valid description is itself valid."""
    name = payee_key(description).title()
    if len(name) <= MAX_PAYEE:
        return name
    space = name.rfind(" ", 0, MAX_PAYEE + 1)
    return name[:space] if space >= MAX_PAYEE // 2 else name[:MAX_PAYEE].rstrip()
