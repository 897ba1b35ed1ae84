"""catimport's short way for ASCII text in ``search_tokens`` gives the tokens of the full
Unicode way (stored search words and queries must agree, whichever way each took)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_core.model.listing import search_tokens

_WORD = re.compile(r"[^\W_]+")


def _full_way(text: str) -> tuple[str, ...]:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return tuple(dict.fromkeys(_WORD.findall(folded)))


@settings(max_examples=500, deadline=None)
@given(text=st.text(st.characters(max_codepoint=127), max_size=60) | st.text(max_size=30))
def test_ascii_and_unicode_text_tokenize_as_the_full_way(text: str) -> None:
    assert search_tokens(text) == _full_way(text)


def test_examples() -> None:
    assert search_tokens("PADARIA Sao_Joao #12 x-1") == _full_way("PADARIA Sao_Joao #12 x-1")
    assert search_tokens("Padaria São João") == search_tokens("PADARIA SAO JOAO") == ("padaria", "sao", "joao")
