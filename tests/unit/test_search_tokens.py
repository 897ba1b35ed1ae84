"""The words search indexes (``search_tokens``): the ASCII fast path folds as the full one does."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from valorize_core.model.listing import _WORD, search_tokens


def _folded_the_long_way(text: str) -> tuple[str, ...]:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return tuple(dict.fromkeys(_WORD.findall(folded)))


@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_any_text_tokenizes_as_the_full_fold_does(text: str) -> None:
    assert search_tokens(text) == _folded_the_long_way(text)


def test_examples() -> None:
    assert search_tokens("Padaria São João #12") == ("padaria", "sao", "joao", "12")
    assert search_tokens("COMPRA CARTAO 1234 PADARIA_REAL padaria") == ("compra", "cartao", "1234", "padaria", "real")
