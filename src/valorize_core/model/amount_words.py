"""Amounts as learned evidence: what a payee's amount and a recurring amount say about the category.

Two payees of different categories may print the same text (a marketplace bought from for
groceries and for meals); what the person paid usually tells them apart. And a bill that recurs
at the same amount (rent, a phone plan, a bank fee) names its category even when the line is cut
before the payee or the payee is new. Both are learned like the payee words, as pseudo-words of
the tenant's word statistics (:class:`~valorize_core.model.payee_words.WordStats`; a ``|`` or
``=`` never occurs in a real word):

* ``"<payee key>|<currency><band>"``: the payee's labeled weight by category in an amount
  *band* (half an octave: each band spans amounts up to √2 times its lower bound; the sign is
  part of the band, so a refund is not a purchase);
* ``"=<currency><minor units>"``: the labeled weight by category of that exact amount.

Nothing here is a list of amounts or payees: every count comes from the tenant's own rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.money import Money

__all__ = ["AmountEvidence", "amount_band", "amount_evidence", "amount_words", "nearby_amount_words"]

_KEY_CHARS = 80  # a word of the statistics holds at most 100 characters
_NEIGHBOUR_BAND = 0.5  # an amount in the next band counts half: bands are cut at arbitrary points
_COINCIDENCE = 3.0  # pseudo-observations against an exact amount: one or two equal amounts are chance
_PRIOR = 0.5
_RECURRED = 2.0


def amount_band(amount: Money) -> int:
    """The signed half-octave band of ``amount``: ``±(1 + ⌊2·log2(|minor|)⌋)``, 0 for zero."""
    magnitude = abs(amount.minor)
    if magnitude == 0:
        return 0
    band = 1 + math.floor(2 * math.log2(magnitude))
    return band if amount.minor > 0 else -band


def _band_word(key: str, currency: str, band: int) -> str:
    return f"{key[:_KEY_CHARS]}|{currency}{band}"


def _exact_word(amount: Money) -> str:
    return f"={amount.currency.code}{amount.minor}"


def amount_words(key: str, amount: Money) -> tuple[str, ...]:
    """The pseudo-words a labeled row with payee ``key`` (empty: none) and ``amount`` teaches."""
    exact = _exact_word(amount)
    return (_band_word(key, amount.currency.code, amount_band(amount)), exact) if key else (exact,)


def nearby_amount_words(key: str, amount: Money) -> tuple[str, ...]:
    """The pseudo-words :func:`amount_evidence` reads for a new row: its band and the two next to
    it for the payee ``key`` (empty: none), and its exact amount."""
    band, code = amount_band(amount), amount.currency.code
    near = tuple(_band_word(key, code, b) for b in (band - 1, band, band + 1) if b and (b > 0) == (band > 0))
    return (*near, _exact_word(amount)) if key else (_exact_word(amount),)


@dataclass(frozen=True, slots=True)
class AmountEvidence:
    """What the tenant's labeled rows say about a new row's amount.

    ``payee``: the payee's labeled weight by category at about this amount (its band counts 1,
    the bands next to it half). ``recurring``: the labeled weight by category of rows with exactly
    this amount.
    """

    payee: Mapping[UUID, float]
    recurring: Mapping[UUID, float]

    def payee_shares(self, text_shares: Mapping[UUID, float]) -> dict[UUID, float]:
        """The category shares of the line's words (``text_shares``) updated by the payee's
        amounts: each category's weight at about this amount, plus its text share as one
        pseudo-observation. Unchanged when the payee has no amount history."""
        mass = sum(self.payee.values())
        if not mass or not text_shares:
            return dict(text_shares)
        categories = set(text_shares) | set(self.payee)
        return {c: (self.payee.get(c, 0.0) + text_shares.get(c, 0.0)) / (mass + 1) for c in categories}

    def payee_confidence(self, category_id: UUID) -> tuple[float, float, float]:
        """``(confidence, agreeing, total)`` for ``category_id`` from the payee's amounts:
        agreeing weight against all of it, with half an observation of doubt each way."""
        total = sum(self.payee.values())
        agreeing = self.payee.get(category_id, 0.0)
        return (agreeing + _PRIOR) / (total + 2 * _PRIOR) if total else 0.0, agreeing, total

    def recurring_confidence(self, category_id: UUID) -> tuple[float, float, float]:
        """``(confidence, agreeing, total)`` for ``category_id`` from rows of the exact amount:
        an amount is recurring once two labeled rows of this category had it (one is a coincidence),
        and it names its category only as it keeps recurring (three pseudo-observations of doubt:
        two equal amounts reach 0.5, three 0.58, a monthly bill of two years 0.91)."""
        total = sum(self.recurring.values())
        agreeing = self.recurring.get(category_id, 0.0)
        recurred = agreeing >= _RECURRED
        return (agreeing + _PRIOR) / (total + _COINCIDENCE) if recurred else 0.0, agreeing, total


def amount_evidence(key: str, amount: Money, counts: Mapping[str, Mapping[UUID, float]]) -> AmountEvidence:
    """The evidence of ``amount`` for payee ``key`` in ``counts`` (the word statistics, read with
    :func:`nearby_amount_words`)."""
    band, code = amount_band(amount), amount.currency.code
    payee: dict[UUID, float] = {}
    if key:
        for b in (band - 1, band, band + 1):
            if not b or (b > 0) != (band > 0):
                continue
            scale = 1.0 if b == band else _NEIGHBOUR_BAND
            for category_id, weight in (counts.get(_band_word(key, code, b)) or {}).items():
                payee[category_id] = payee.get(category_id, 0.0) + scale * weight
    return AmountEvidence(payee, dict(counts.get(_exact_word(amount)) or {}))
