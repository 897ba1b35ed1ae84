"""Embedders: text to unit vectors."""

from valorize_adapters.embedders.hashing import HashingEmbedder

__all__ = ["HashingEmbedder"]
