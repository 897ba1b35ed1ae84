"""Learned payee normalization: which words of a bank line name the payee, learned per tenant.

A bank line mixes the payee with what the bank adds (prefixes such as ``POS PURCHASE``, places,
card and reference numbers, dates). No list of prefixes or places is kept here: the tenant's own
labeled rows teach which words are *distinctive*. A word seen under one category is the payee's
(``kin``, ``soy``); a word spread over many categories is the bank's or a place's (``purchase``,
``chicago``) and weighs little. The statistics grow with every labeled row (:class:`WordStats`,
persisted by the payee-memory repository), so a bank format never seen before becomes light as
soon as it has appeared under a few categories.

Matching between two lines tolerates typos and truncation: words are compared by edit distance
and character trigrams, and the last word of a line may be a cut-off prefix of the other's.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from uuid import UUID

from valorize_core.model.payees import LINES_CACHED

__all__ = [
    "ALL",
    "KEY_WEIGHT",
    "MAX_WORDS",
    "SAME_WORD",
    "Match",
    "Weighed",
    "WordCounts",
    "WordStats",
    "category_shares",
    "learned_key",
    "match",
    "match_weighed",
    "resolve",
    "weighed",
    "word_similarity",
    "words",
]

ALL = "*"
"""The pseudo-word every labeled row carries (no real word has a ``*``): its counts are the
tenant's labeled rows by category."""
MAX_WORDS = 16
"""Words kept from one line (user input never gets super-linear work)."""
KEY_WEIGHT = 0.3
"""A word at least this distinctive belongs to the payee key."""
_MAX_WORD = 40
_PRIOR = 0.5
_CUT_OFF = 0.5
SAME_WORD = 0.7
"""Two words at least this alike are one word (a typo or a cut-off of it); below, a different word
that shares some letters."""

WordCounts = Mapping[UUID, float]
"""How much weight of labeled rows carried a word, by category."""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@lru_cache(maxsize=LINES_CACHED)
def words(text: str) -> tuple[str, ...]:
    """The candidate payee words of a line: folded to lower-case ASCII-like letters, split at
    anything that is not a letter or digit; words with digits (card, reference and store numbers,
    dates, times) and single letters are dropped. Generic, not a list: what else is noise is
    learned (:class:`WordStats`)."""
    out: list[str] = []
    current: list[str] = []
    for ch in _fold(text[:2000]) + " ":
        if ch.isalnum():
            current.append(ch)
            continue
        if current:
            word = "".join(current)
            current = []
            if len(word) > 1 and not any(c.isdigit() for c in word):
                out.append(word[:_MAX_WORD])
                if len(out) == MAX_WORDS:
                    break
    return tuple(out)


@dataclass(frozen=True, slots=True)
class WordStats:
    """What the tenant's labeled rows say about some words: per word, weight by category.

    Only the words asked for are loaded (``PayeeMemoryRepository.word_counts``); a word absent
    from ``counts`` was never seen.
    """

    counts: Mapping[str, WordCounts]
    _weights: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def known(self, word: str) -> bool:
        """Whether a labeled row ever carried ``word``."""
        return bool(self.counts.get(word))

    def weight(self, word: str) -> float:
        """How much ``word`` says about the payee, in [0, 1]: the larger of two learned signals.

        *Lift*: how much more often the word's top category comes with it than with any row
        (``(p - base) / (1 - base)``, ``p`` smoothed), squared — a bank word follows the tenant's
        own mix of categories and lifts nothing; a payee's word seen under one category lifts 1.
        *Rarity over categories*: an IDF over the categories the tenant uses,
        ``(log((C + 1) / c) / log(C + 1))²`` for a word seen under ``c`` of ``C`` categories (a
        payee shared by two categories of twenty keeps 0.59; a bank prefix under fifteen 0.01).
        A word never seen weighs 1 (it may be a new payee's); so does every word while the tenant
        has labeled only one category (nothing tells the bank's words apart yet).
        """
        found = self._weights.get(word)
        if found is None:
            found = self._weights[word] = self._weight(word)
        return found

    def reweigh(self, words: Iterable[str]) -> None:
        """Weigh these words again when next asked (their counts in ``counts`` changed)."""
        for word in words:
            self._weights.pop(word, None)

    def _weight(self, word: str) -> float:
        counts = self.counts.get(word)
        if not counts:
            return 1.0
        rows = self.counts.get(ALL) or counts
        used = len(rows)
        if used <= 1:
            return 1.0
        high = max(counts.values())
        tied = [c for c, n in counts.items() if n == high]
        top = tied[0] if len(tied) == 1 else max(tied, key=str)  # ties alike in every adapter
        total = sum(counts.values())
        p = min(1.0, (counts[top] + _PRIOR) / (total + _PRIOR * len(counts)))
        base = rows.get(top, 0.0) / sum(rows.values())
        lift = max(0.0, (p - base) / (1 - base)) if base < 1 else 0.0
        rarity = math.log((used + 1) / min(used, len(counts))) / math.log(used + 1)
        return max(lift, rarity) ** 2

    def spread(self, word: str) -> int:
        """Over how many categories ``word`` was seen."""
        return len(self.counts.get(word) or {})


def learned_key(line_words: Sequence[str], stats: WordStats) -> str:
    """The payee key of a line: its distinctive words in order; all its words when none is
    distinctive (the categorizer then trusts the line little: it names no clear payee)."""
    return " ".join(w for w in line_words if stats.weight(w) >= KEY_WEIGHT) or " ".join(line_words)


def resolve(line: Sequence[str], stats: WordStats, vocabulary: Iterable[str]) -> tuple[str, ...]:
    """``line`` with each never-seen word replaced by the known word of ``vocabulary`` it is a
    typo or (the last word) a cut-off of, when one is alike enough (0.7); so ``"purch"`` at the
    end of a line weighs what ``"purchase"`` weighs."""
    known = sorted(w for w in vocabulary if stats.known(w))  # ties resolve alike in every process
    out = []
    for i, word in enumerate(line):
        if stats.known(word):
            out.append(word)
            continue
        best, partner = 0.0, word
        for other in known:
            s = word_similarity(word, other, truncated=i == len(line) - 1)
            if s > best:
                best, partner = s, other
        out.append(partner if best >= SAME_WORD else word)
    return tuple(out)


def category_shares(line: Sequence[str], stats: WordStats) -> dict[UUID, float]:
    """What the line's distinctive known words say on their own: each category's share of their
    labeled weight, each word counted by its weight. Empty when no distinctive word is known (a
    new payee). A payee printed the same for two categories splits its share between them."""
    shares: dict[UUID, float] = {}
    mass = 0.0
    for word in dict.fromkeys(line):
        counts = stats.counts.get(word)
        weight = stats.weight(word)
        if not counts or weight < KEY_WEIGHT:
            continue
        total = sum(counts.values())
        mass += weight
        for category_id, n in counts.items():
            shares[category_id] = shares.get(category_id, 0.0) + weight * n / total
    return {c: v / mass for c, v in shares.items()} if mass else {}


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _trigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@lru_cache(maxsize=1 << 16)
def word_similarity(a: str, b: str, *, truncated: bool = False) -> float:
    """How alike two words are, in [0, 1]: 1 when equal; one edit apart (a typo: a letter
    changed, dropped, added, or two swapped) 0.85 when both have four letters or more, 0.7 with
    three; with ``truncated`` (``a`` ends its line), a prefix of three letters
    or more of ``b`` scores by how much of ``b`` it keeps; otherwise the Dice coefficient of their
    character trigrams when it reaches 0.5, else 0."""
    if a == b:
        return 1.0
    if truncated and len(a) >= 3 and b.startswith(a):
        return 0.6 + 0.4 * len(a) / len(b)
    if min(len(a), len(b)) >= 3 and _edit_distance_at_most_one(a, b):
        return 0.85 if min(len(a), len(b)) >= 4 else 0.7
    ta, tb = _trigrams(a), _trigrams(b)
    dice = 2 * len(ta & tb) / (len(ta) + len(tb))
    return dice if dice >= 0.5 else 0.0


@lru_cache(maxsize=1 << 16)
def _partner(word: str, line: tuple[str, ...], truncated: bool) -> tuple[float, str]:
    """The word of ``line`` most like ``word`` (the first of equals) and how alike they are
    (cached: a batch matches the same words against the same labeled lines row after row)."""
    best, partner = 0.0, ""
    for other in line:
        s = word_similarity(word, other, truncated=truncated)
        if s > best:
            best, partner = s, other
            if s == 1.0:  # nothing is more alike
                break
    return best, partner


@dataclass(frozen=True, slots=True)
class Match:
    """How well a labeled line matches a new one: ``score`` in [0, 1], the words that met, and the
    query's distinctive words the example does not account for (no word of it is the same word,
    a typo or a cut-off of it)."""

    score: float
    pairs: tuple[tuple[str, str], ...]
    unaccounted: tuple[str, ...] = ()

    @property
    def accounted(self) -> bool:
        """Whether every distinctive word of the query is one of the example's: a line sharing one
        word with a known payee (``DROPOLEM RIGA`` and ``RIGA DROPO``) is another payee."""
        return self.score > 0 and not self.unaccounted


_NO_MATCH = Match(0.0, ())


@lru_cache(maxsize=1 << 16)
def _unique(line: tuple[str, ...]) -> tuple[str, ...]:
    """``line`` without its repeated words, in order (cached: the same lines are matched row after row)."""
    return tuple(dict.fromkeys(line))


@dataclass(frozen=True, slots=True)
class Weighed:
    """What :func:`match` reads of a line under some statistics: its distinct words in order, each
    word's weight, the words a labeled row carried, and the sum of the weights. A batch matches
    the same labeled lines row after row: weighed once (per unit of work), they are not weighed
    again per pair."""

    words: tuple[str, ...]
    weights: Mapping[str, float]
    known: frozenset[str]
    mass: float


def weighed(line: Sequence[str], stats: WordStats) -> Weighed:
    """``line`` weighed with ``stats`` (see :class:`Weighed`)."""
    unique = _unique(tuple(line))
    weights = {w: stats.weight(w) for w in unique}
    return Weighed(unique, weights, frozenset(w for w in unique if stats.known(w)), sum(weights.values()))


def match(query: Sequence[str], example: Sequence[str], stats: WordStats) -> Match:
    """How much of each line's distinctive words the other holds, typo- and truncation-tolerant.

    Both directions count (their product): the example's distinctive words found in the
    query, and the query's *known* distinctive words found in the example (a word never seen in
    any labeled row, such as a new bank prefix, neither helps nor hurts). The query's last word
    may be truncated; when it is a cut-off of an example's word, the example's words after that
    one count half (the line was cut there). A word of the query counts as found only when the
    example holds the same word, a typo of it or (the last word) a word it is a cut-off of; one
    that merely shares some letters with a word of the example (``dropolem`` and ``dropo``) weighs
    what that word weighs and is not found — it is listed in :attr:`Match.unaccounted`.
    """
    return match_weighed(weighed(query, stats), weighed(example, stats))


def match_weighed(q: Weighed, e: Weighed) -> Match:
    """:func:`match` of two lines weighed with the same statistics (the same result)."""
    query, example = q.words, e.words
    if not query or not example:
        return _NO_MATCH
    query_weights, example_weights, query_known = q.weights, e.weights, q.known
    found: dict[str, tuple[float, str]] = {}
    query_mass = covered_query = 0.0
    unaccounted: list[str] = []
    last = len(query) - 1
    for i, word in enumerate(query):
        best, partner = _partner(word, example, i == last)
        if word in query_known:
            weight = query_weights[word]
        elif best > 0:
            weight = example_weights[partner]  # a typo or a cut-off of a known word
        else:
            continue  # never seen anywhere: neither helps nor hurts
        query_mass += weight
        if best < SAME_WORD and not (i == last and partner.startswith(word) and len(word) >= 3):
            # a word sharing only some letters with the example's is another word: it is not
            # accounted for and covers nothing (``DROPOLEM RIGA`` is not ``RIGA DROPO``)
            if weight >= KEY_WEIGHT:
                unaccounted.append(word)
            continue
        if best > 0:
            covered_query += best * weight
            if partner not in found or found[partner][0] < best:
                found[partner] = (best, word)
    if query_mass <= 0:
        return _NO_MATCH
    # when the query's last word is the example's word or a cut-off of it, the query may have been
    # truncated there (a line cut after a word of the payee is as cut as one cut inside the next):
    # the example's words after it count half
    tail = query[last]
    cut = max((example.index(x) for x, (_, w) in found.items() if w == tail and x.startswith(w)), default=len(example))
    if cut >= len(example) - 1:  # no word after the cut: every word counts whole
        example_mass = e.mass
    else:
        example_mass = sum(example_weights[x] * (_CUT_OFF if i > cut else 1.0) for i, x in enumerate(example))
    if example_mass <= 0:
        return _NO_MATCH
    if not found:  # nothing of the example met: the same score, 0, without the sums below
        return Match(0.0, (), tuple(unaccounted))
    covered_example = sum(s * example_weights[x] for x, (s, _) in found.items())
    score = min(1.0, covered_example / example_mass) * min(1.0, covered_query / query_mass)
    return Match(score, tuple((w, x) for x, (_, w) in found.items()), tuple(unaccounted))
