"""A word printed run together from known words: ``WALMARTSUPERCENTER`` is ``WALMART SUPERCENTER``.

Some formats drop the spaces of a payee's name (``PAYPAL *JOESPIZZA``). The run-together word is
then a word of its own in the tenant's statistics, learned from few rows, while its parts may
have been seen many times — and disagree (a marketplace bought from for two categories). What the
parts say is evidence about the whole word: the categorizer counts them beside it in the line's
category shares, so one row of the run-together word cannot make a mixed payee look sure.
Nothing here is a list: a part is a word the tenant's labeled rows carry.
"""

from __future__ import annotations

from collections.abc import Sequence

from valorize_core.model.payee_words import KEY_WEIGHT, WordStats

__all__ = ["word_parts"]

_PART_LETTERS = 3
"""A part is a word of three letters or more (a shorter one splits almost any word)."""


def word_parts(line: Sequence[str], stats: WordStats) -> tuple[str, ...]:
    """The known words that the line's distinctive words are printed run together from: for each
    word with a split into two known words, each of at least three letters and both distinctive
    (a payee's, not the bank's), those two parts (the split whose shorter part is longest when
    several fit). Only words whose statistics are loaded in ``stats`` are considered."""
    out: list[str] = []
    for word in dict.fromkeys(line):
        if len(word) < 2 * _PART_LETTERS:
            continue
        best: tuple[str, str] | None = None
        for i in range(_PART_LETTERS, len(word) - _PART_LETTERS + 1):
            head, tail = word[:i], word[i:]
            if all(stats.known(p) and stats.weight(p) >= KEY_WEIGHT for p in (head, tail)) and (
                best is None or min(len(head), len(tail)) > min(map(len, best))
            ):
                best = (head, tail)
        if best:
            out.extend(p for p in best if p not in line)
    return tuple(dict.fromkeys(out))
