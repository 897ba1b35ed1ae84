"""How surely a known payee's own words name a category, apart from other payees sharing a word.

The categorizer scales every candidate by the category's share of the line's distinctive words
(:func:`~valorize_core.model.payee_words.category_shares`): a payee printed the same for two
categories is sure of neither. But a word may be mixed only because *another* payee carries it
too (``VIKRI LEMVIK`` for meals, ``VIKRI DROLEM`` for fees): the line ``VIKRI LEMVIK`` is still
sure when its other word names one category. When the line's distinctive words are all words of
the remembered payee key, the key's most exclusive word tells how mixed the payee itself is —
its labeled weight under the category, smoothed by half an observation each way (one row is not
a certainty). Nothing here is a list: the counts are the tenant's word statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from valorize_core.model.payee_words import KEY_WEIGHT, WordStats

__all__ = ["payee_share"]

_PRIOR = 0.5


def payee_share(resolved: Sequence[str], key: str, category_id: UUID, stats: WordStats) -> float:
    """The share of ``category_id`` by the most exclusive word of the payee ``key``, when every
    distinctive known word of the line (``resolved``) is a word of ``key``; 0 otherwise (a line
    with a distinctive word the key lacks names something else too: the line's shares decide)."""
    key_words = key.split()
    distinctive = {w for w in resolved if stats.known(w) and stats.weight(w) >= KEY_WEIGHT}
    if not distinctive or not distinctive.issubset(key_words):
        return 0.0
    best = 0.0
    for word in key_words:
        counts = stats.counts.get(word)
        if counts:
            best = max(best, (counts.get(category_id, 0.0) + _PRIOR) / (sum(counts.values()) + 2 * _PRIOR))
    return best
