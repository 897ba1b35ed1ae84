"""Never-seen words that name another payee: a familiar line with a new word beside the payee's.

A word no labeled row ever carried is, on its own, neutral to the categorizer: it may be a new
payee's, or a new bank format's or a new place's (``MC DEBIT … TAMPA FL`` around a known payee).
What tells them apart is the rest of the line, as the tenant's own statistics see it. A new
statement format brings new words on *both* sides of the payee or away from it (a new prefix and
a new place); a line whose words are all familiar — the payee's known words and the tenant's
known bank and place words — except for one run of never-seen words *touching* the payee's words
is a known format around another name: ``PGTO DEBITO POTU TULEM DETROIT MI`` when only ``POTU``
was labeled is ``POTU TULEM``, another payee that shares a word (``JOES PIZZA`` after ``JOES
GARAGE``). Nothing here is a list: "known", "distinctive" and "look-alike" all come from the
tenant's labeled rows (:class:`~valorize_core.model.payee_words.WordStats`).

The categorizer weighs such words as what a never-seen word weighs (1, a distinctive word) that
no labeled row accounts for: the evidence of the payee's known words is scaled by their share of
the line's distinctive mass (:func:`familiar_share`).
"""

from __future__ import annotations

from collections.abc import Sequence

from valorize_core.model.payee_words import KEY_WEIGHT, WordStats

__all__ = ["familiar_share", "unfamiliar_words"]

_NAME_LETTERS = 3
"""A never-seen word shorter than this (a state code, a typo or cut-off of a short word) is no
evidence of another name (but still of a new format)."""


def unfamiliar_words(line: Sequence[str], resolved: Sequence[str], stats: WordStats) -> tuple[str, ...]:
    """The words of ``line`` that likely name another payee beside a known one.

    ``resolved`` is ``line`` with each never-seen word replaced by the known word it is a typo or
    a cut-off of (:func:`~valorize_core.model.payee_words.resolve`); a word still never seen after
    that is *new*. The new words count when all of them form one run right before or right after
    the line's distinctive known words (its payee), or between two of them, and the line holds at
    least one other familiar word (a known bank or place word) — so the format around them is one
    the tenant has seen. Empty otherwise: no new word, no known payee word, new words on both
    sides or apart from the payee (a new format), or nothing familiar around them. Only the new
    words of three letters or more are returned (a shorter one may be a state code, or a typo or
    cut-off of any short word; it still shows a new format).
    """
    new = [i for i, (w, r) in enumerate(zip(line, resolved, strict=True)) if w == r and not stats.known(w)]
    core = [i for i, r in enumerate(resolved) if stats.known(r) and stats.weight(r) >= KEY_WEIGHT]
    if not new or not core:
        return ()
    if new != list(range(new[0], new[-1] + 1)):
        return ()  # not one run
    touches = new[-1] + 1 == core[0] or new[0] - 1 == core[-1]
    inside = core[0] < new[0] and new[-1] < core[-1]  # between two words of the payee
    if not (touches or inside):
        return ()
    familiar = [i for i in range(len(line)) if i not in new and i not in core and stats.known(resolved[i])]
    if not familiar and not inside:
        return ()  # nothing around to say the format is known
    return tuple(line[i] for i in new if len(line[i]) >= _NAME_LETTERS)


def familiar_share(resolved: Sequence[str], unfamiliar: Sequence[str], stats: WordStats) -> float:
    """The share of the line's distinctive mass its known words hold, when ``unfamiliar`` words
    (each weighing 1, as a never-seen word does) stand beside them; 1 without any."""
    if not unfamiliar:
        return 1.0
    known = sum(stats.weight(r) for r in dict.fromkeys(resolved) if stats.known(r) and stats.weight(r) >= KEY_WEIGHT)
    return known / (known + len(set(unfamiliar))) if known else 1.0
