"""The embedders: the default hashing one, and the optional sentence-transformers one."""

from __future__ import annotations

import importlib.util
import math

import pytest

from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_entrypoints.settings import Settings


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hashing_vectors_are_deterministic_unit_and_find_the_payee_through_bank_noise() -> None:
    embedder = HashingEmbedder(256)
    a, b, c = embedder.embed(["COMPRA CARTAO 1234 PADARIA REAL SP 03/11", "Padaria Real", "POSTO SHELL"])
    assert embedder.embed(["Padaria Real"])[0] == b
    assert math.isclose(math.sqrt(sum(x * x for x in a)), 1.0)
    # digits are gone before hashing; bank words are not (no fixed list: the categorizer learns
    # their weight per tenant), so the embedder only has to bring the payee's rows near
    assert cosine(a, b) > 0.6
    assert cosine(a, c) < 0.2
    truncated = embedder.embed(["PADARIA REA"])[0]
    assert cosine(truncated, b) > 0.6  # shared trigrams survive truncation


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None, reason="the extra is installed")
def test_the_sentence_embedder_says_how_to_install_it() -> None:
    from valorize_adapters.embedders.sentence import SentenceTransformerEmbedder

    with pytest.raises(RuntimeError, match=r"valorize\[embeddings\]"):
        SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")


def test_unknown_embedders_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="VALORIZE_EMBEDDER"):
        Settings.from_env({"VALORIZE_EMBEDDER": "word2vec"})
