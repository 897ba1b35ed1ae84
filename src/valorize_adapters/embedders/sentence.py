"""A real sentence embedder (``sentence-transformers``), behind the ``embeddings`` extra.

``pip install 'valorize[embeddings]'`` and ``VALORIZE_EMBEDDER=sentence-transformers:<model>``
(for example ``sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2``, which reads
Portuguese). The model is downloaded from the Hugging Face hub on first use, so this needs the
network once; the default hashing embedder needs nothing. Descriptions are normalized with
:func:`~valorize_core.model.payees.payee_key` first, so bank noise does not reach the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from valorize_core.model.payees import payee_key

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder:
    """Unit-length sentence embeddings of normalized descriptions."""

    def __init__(self, model_name: str, *, device: str | None = None, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
        except ImportError:
            raise RuntimeError(
                "the sentence embedder needs sentence-transformers: pip install 'valorize[embeddings]'"
            ) from None
        self._model: Any = SentenceTransformer(model_name, device=device)
        self._dimensions = int(self._model.get_sentence_embedding_dimension())
        self._batch_size = batch_size

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(
            [payee_key(t) for t in texts], batch_size=self._batch_size, normalize_embeddings=True
        )
        return [[float(v) for v in vector] for vector in vectors]
