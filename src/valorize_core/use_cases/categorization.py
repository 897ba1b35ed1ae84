"""The categorizer: rules → payee memory and labeled neighbours → uncategorized.

A person's category always wins over every automatic stage; a rule wins over what was learned.
What was learned is weighed together: the payee memory (the categories a person gave the payee
recently) and the labeled rows most like this one (found by the embedder, then re-scored word by
word with the tenant's learned word weights, tolerant of typos and truncation —
:mod:`valorize_core.model.payee_words`). Every candidate gets a *calibrated* confidence: it grows
with agreeing observations, falls with disagreeing ones and with a weak match, and is low when the
line has no distinctive word (a bank prefix alone names no payee). The threshold applies to every
learned source; below it the row stays uncategorized, and the explanation says which candidates
came closest and why they fell short.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from uuid import UUID

from valorize_core.model.amount_words import AmountEvidence, amount_evidence, amount_words, nearby_amount_words
from valorize_core.model.money import Money
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.payee_share import payee_share
from valorize_core.model.payee_words import (
    ALL,
    KEY_WEIGHT,
    Match,
    Weighed,
    WordCounts,
    WordStats,
    category_shares,
    learned_key,
    match_weighed,
    resolve,
    weighed,
    words,
)
from valorize_core.model.rules import Rule, RuleOutcome, apply_rules
from valorize_core.model.transactions import Categorization, CategorizationSource, Transaction
from valorize_core.model.unfamiliar_words import familiar_share, unfamiliar_words
from valorize_core.model.word_parts import word_parts
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.unit_of_work import ReadOnlyUnit, UnitOfWork
from valorize_core.ports.vector_index import Neighbour
from valorize_core.use_cases.lookups import together

__all__ = [
    "CONFIRMATION_WEIGHT",
    "Categorizer",
    "CategorizerOutcome",
    "Decision",
    "PayeeMemoryEntry",
    "Suggestion",
    "vote",
]

CONFIRMATION_WEIGHT = 0.5
_FORGOTTEN = 1e-9  # a word count at or below this is gone (as the repositories forget it)
"""What an automatic category a person confirms or keeps teaches, against 1 for a correction."""
_PLACES = Decimal("0.001")
_RECALL = 24  # neighbours fetched from the index before re-scoring
_NEAR_BEST = 0.5  # neighbours matching at least this share of the best match take part in the vote
_PRIOR = 0.5  # pseudo-observation against every candidate: one observation is not a certainty
_TOLERANT = 0.6  # a neighbour matching this well lends its payee memory
_PRIOR_SCALE = 0.3  # the tenant's mix of categories alone never reaches a threshold


@lru_cache(maxsize=1 << 12)
def _dec(value: float) -> Decimal:
    """A confidence as shown: three places (cached: a page of suggestions shows the same
    prior-only confidences for every line)."""
    return Decimal(repr(max(0.0, min(1.0, value)))).quantize(_PLACES, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate category with its confidence and reason."""

    category_id: UUID
    source: CategorizationSource
    confidence: Decimal
    explanation: str
    rule_id: UUID | None = None

    def as_categorization(self) -> Categorization:
        """The provenance to store on the transaction."""
        return Categorization(self.source, self.confidence, self.explanation[:1000], self.rule_id)


def vote(neighbours: Sequence[Neighbour]) -> list[Suggestion]:
    """Similarity-weighted vote of labeled neighbours, best first, as the embedder sees them
    (without the tenant's word weights; the categorizer itself re-scores, see :meth:`Categorizer.decide`).

    Confidence is the winner's share of the total weight scaled by its best similarity, so a
    unanimous but distant neighbourhood is not mistaken for a sure one.
    """
    weights: dict[UUID, float] = {}
    best: dict[UUID, Neighbour] = {}
    for n in neighbours:
        w = max(n.similarity, 0.0)
        if w <= 0:
            continue
        weights[n.category_id] = weights.get(n.category_id, 0.0) + w
        if n.category_id not in best or n.similarity > best[n.category_id].similarity:
            best[n.category_id] = n
    total = sum(weights.values())
    out: list[Suggestion] = []
    for category_id, weight in sorted(weights.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        names = [f"{n.text!r} ({n.similarity:.2f})" for n in neighbours if n.category_id == category_id][:3]
        out.append(
            Suggestion(
                category_id,
                CategorizationSource.NEIGHBOURS,
                _dec(weight / total * best[category_id].similarity),
                f"similar to {', '.join(names)}",
            )
        )
    return out


@dataclass(slots=True)
class _Candidate:
    """The evidence gathered for one category."""

    category_id: UUID
    memory: float = 0.0
    memory_why: str = ""
    neighbours: float = 0.0
    independent: float = 0.0
    neighbours_why: str = ""
    examples: tuple[tuple[float, str, bool], ...] = ()  # no list per candidate: most have none
    recurring: float = 0.0
    recurring_why: str = ""
    share: float = 1.0
    prior: float = 0.0
    payee_share: float = 0.0
    own_words: bool = False

    def confidence(self, payee: float) -> float:
        """Evidence counts once: the payee memory and the neighbour vote are not added when they
        stand on the same rows (the labeled rows of the memory's own key are the observations the
        memory counted); only neighbours of *other* payee keys (``independent``) reinforce the
        memory, half as much as an exact observation would (they match imperfectly). The category's
        share of the line's distinctive words (at about this amount, when the payee's amounts are known) scales it
        (a payee seen under two categories is not sure of either); the evidence of the line's
        words is capped when it has no distinctive word (``payee`` below 1) — a recurring
        amount is not: it names the category without the payee."""
        high = max(self.memory, self.neighbours)
        text = (high + (1 - high) * self.independent / 2 if self.memory else high) * payee
        top, other = max(text, self.recurring), min(text, self.recurring)
        return max((top + (1 - top) * other / 2) * self.share**2, self.prior * _PRIOR_SCALE)

    def copy(self) -> _Candidate:
        """A candidate to add the amount's evidence to (``examples`` is shared: it is not changed)."""
        return _Candidate(
            self.category_id, self.memory, self.memory_why, self.neighbours, self.independent, self.neighbours_why,
            self.examples, self.recurring, self.recurring_why, self.share, self.prior, self.payee_share,
            self.own_words,
        )  # fmt: skip

    def source(self) -> CategorizationSource:
        return CategorizationSource.MEMORY if self.memory >= self.neighbours else CategorizationSource.NEIGHBOURS

    def reasons(self) -> str:
        whose = "the payee's own words" if self.own_words else "its distinctive words"
        words_why = "" if self.share == 1.0 else f"{whose} were this category {self.share:.0%} of the time"
        prior_why = f"{self.prior:.0%} of your labeled rows are in this category" if self.prior else ""
        reasons = (self.memory_why, self.neighbours_why, self.recurring_why, words_why, prior_why)
        return "; ".join(r for r in reasons if r)


def _ranked(candidates: dict[UUID, _Candidate], shares: dict[UUID, float], gate: float) -> list[_Candidate]:
    """The candidates best first, each scaled by its share of the line's distinctive words."""
    for c in candidates.values():
        c.share = shares.get(c.category_id, 0.0) if shares else 1.0
    # ties by the id's number: the order of its text (fixed-width lower-case hex), without formatting it
    return sorted(candidates.values(), key=lambda c: (-c.confidence(gate), c.category_id.int))


@dataclass(slots=True)
class _Scored:
    """What a line's words, its neighbours and the payee memory make of it before its amount is
    asked (the same for every row of a batch with this line and these neighbours)."""

    candidates: dict[UUID, _Candidate]
    shares: dict[UUID, float]
    gate: float
    payee: float
    caveat: str  # what every reason adds: words never seen beside the payee's, words run together
    decision: Decision | None  # when the amount is not asked: the whole decision


_ScoredKey = tuple[tuple[str, ...], tuple[int, ...], frozenset[UUID] | None]
"""A line, its neighbours by identity (the entry keeps them alive: an id is not reused while it is
kept) and the known categories. Hashing the neighbours themselves hashed two UUIDs each, a Python
call apiece; an adapter returns the same objects for the same search in a unit (both keep them)."""


@dataclass(slots=True)
class _UnitScores:
    """What one unit of work read of the word statistics, and what was computed from them.

    ``counts`` holds every word read (``None``: never seen); ``stats`` views the words seen and
    keeps each word's weight, so a word is weighed once per unit, not once per row; ``matches``
    and ``scored`` remember the scoring of a (line, labeled line) pair and of a (line,
    neighbours) pair, so the rows of a batch that repeat a payee are scored once; ``vectors``
    the embedder's vector of each payee key searched (those :meth:`Categorizer.read_ahead_many`
    embedded too: a row searches by the vector its read-ahead searched by) and ``ahead`` the keys
    it read ahead; ``known`` the last set of known categories
    asked with (and their ids' numbers, to filter neighbours without hashing UUIDs) and ``priors``
    each category's share of the labeled rows, by the statistics and known categories they were
    computed from; ``lines`` each line matched, weighed (:class:`Weighed`), and ``keys`` each
    labeled line's learned key, until the statistics change or more are read. Anything the
    categorizer learns or unlearns in the unit (statistics, payee memory) starts them afresh
    (:meth:`changed`); a neighbour written meanwhile changes the neighbours found, compared each row.
    """

    counts: dict[str, dict[UUID, float] | None] = field(default_factory=dict)
    seen: dict[str, dict[UUID, float]] = field(default_factory=dict)
    stats: WordStats = field(default_factory=lambda: WordStats({}))
    matches: dict[tuple[tuple[str, ...], tuple[str, ...]], Match] = field(default_factory=dict)
    scored: dict[_ScoredKey, tuple[tuple[Neighbour, ...], _Scored]] = field(default_factory=dict)
    vectors: dict[str, Sequence[float]] = field(default_factory=dict)  # the embedder's, by payee key
    known: tuple[frozenset[UUID], frozenset[int]] | None = None
    priors: tuple[object, Set[UUID] | None, dict[UUID, float]] | None = None
    lines: dict[tuple[str, ...], Weighed] = field(default_factory=dict)
    ahead: set[str] = field(default_factory=set)  # payee keys whose memory and neighbours were read ahead
    keys: dict[tuple[str, ...], str] = field(default_factory=dict)

    def allowed(self, known: set[UUID] | None) -> tuple[frozenset[UUID], frozenset[int]] | None:
        """``known`` frozen (the same object while it does not change) and its ids' numbers."""
        if known is None:
            return None
        kept = self.known
        if kept is None or kept[0] != known:  # compared by the stored hashes: no UUID hashed again
            kept = self.known = (frozenset(known), frozenset(c.int for c in known))
        return kept

    def prior(self, stats: WordStats, known: Set[UUID] | None) -> dict[UUID, float]:
        """Each known category's share of the tenant's labeled rows (the statistics' ``ALL``)."""
        rows = stats.counts.get(ALL) or {}
        kept = self.priors
        if kept is not None and kept[0] is rows and kept[1] is known:
            return kept[2]
        labeled = {c: w for c, w in rows.items() if known is None or c in known}
        total = sum(labeled.values())
        shares = {c: w / total for c, w in labeled.items()}
        self.priors = (rows, known, shares)
        return shares

    def __post_init__(self) -> None:
        self.stats = WordStats(self.seen)

    def read(self, found: dict[str, dict[UUID, float]], asked: Iterable[str]) -> None:
        """Words read from the repository (``found``, of ``asked``)."""
        for w in asked:
            c = found.get(w)
            self.counts[w] = c
            if c:
                self.seen[w] = c
        if ALL in found:  # weights weigh against the tenant's rows: weighed before them, again
            self.stats = WordStats(self.seen)
        else:  # a word weighed before it was read weighed as never seen
            self.stats.reweigh(found)
        self.lines.clear()
        self.keys.clear()

    def changed(self) -> None:
        """The statistics or the payee memory changed: weigh and score afresh."""
        self.stats = WordStats(self.seen)
        self.matches.clear()
        self.scored.clear()
        self.lines.clear()
        self.keys.clear()

    def match(self, line: tuple[str, ...], example: tuple[str, ...]) -> Match:
        found = self.matches.get((line, example))
        if found is None:
            found = self.matches[line, example] = match_weighed(self.weighed(line), self.weighed(example))
        return found

    def weighed(self, line: tuple[str, ...]) -> Weighed:
        found = self.lines.get(line)
        if found is None:
            found = self.lines[line] = weighed(line, self.stats)
        return found

    def key(self, line: tuple[str, ...]) -> str:
        """The learned key of a labeled line (:func:`learned_key`)."""
        found = self.keys.get(line)
        if found is None:
            found = self.keys[line] = learned_key(line, self.stats)
        return found


class Decision:
    """What the learned stages make of a line: candidates best first (with calibrated
    confidences) and, when none reaches the threshold, why the row stays uncategorized.

    A candidate's :class:`Suggestion` (its explanation) is built when first asked: a line has a
    candidate for every category the tenant labeled, and a page of suggestions shows three.
    Two decisions are equal when every suggestion, the choice and the explanation are.
    """

    __slots__ = ("_built", "_caveat", "_gate", "_ranked", "_stored", "chosen", "explanation")

    def __init__(self, ranked: Sequence[_Candidate], gate: float, caveat: str, threshold: Decimal) -> None:
        self._ranked = tuple(ranked)
        self._gate = gate
        self._caveat = caveat
        self._built: list[Suggestion] = []
        first = self.top(1)
        self.chosen: Suggestion | None = first[0] if first and first[0].confidence >= threshold else None
        self.explanation = ""
        self._stored: tuple[str, Categorization] | None = None

    def categorization(self) -> Categorization:
        """What a row this decision decides stores: the choice's provenance, or none with the
        abstention's explanation — made once, shared by every row of a batch decided alike."""
        stored = self._stored
        if stored is None or stored[0] is not self.explanation:
            made = (
                self.chosen.as_categorization()
                if self.chosen is not None
                else Categorization.none(self.explanation[:1000])
            )
            stored = self._stored = (self.explanation, made)
        return stored[1]

    def top(self, n: int) -> tuple[Suggestion, ...]:
        """The ``n`` best candidates (fewer when there are fewer)."""
        built, gate = self._built, self._gate
        for c in self._ranked[len(built) : n]:
            built.append(Suggestion(c.category_id, c.source(), _dec(c.confidence(gate)), c.reasons() + self._caveat))
        return tuple(built[:n])

    @property
    def suggestions(self) -> tuple[Suggestion, ...]:
        """Every candidate, best first."""
        return self.top(len(self._ranked))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return (self.suggestions, self.chosen, self.explanation) == (other.suggestions, other.chosen, other.explanation)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Decision({self.suggestions!r}, {self.chosen!r}, {self.explanation!r})"


@dataclass(frozen=True, slots=True)
class CategorizerOutcome:
    """The transaction after categorization and what the rules did to it."""

    transaction: Transaction
    rules: RuleOutcome


def _added(counts: WordCounts | None, category_id: UUID, weight: float) -> dict[UUID, float] | None:
    """A word's counts after learning (``weight`` above 0) or unlearning, as the repositories
    apply it: a count at zero or below is forgotten, and a word without counts is gone."""
    out = dict(counts or {})
    out[category_id] = out.get(category_id, 0.0) + weight
    if out[category_id] <= _FORGOTTEN:
        del out[category_id]
    return out or None


class Categorizer:
    """Runs the pipeline for one tenant's transaction.

    Args:
        embedder: turns descriptions into vectors; without one only the payee memory is asked.
        neighbours: how many re-scored neighbours may vote.
        threshold: minimum calibrated confidence for any learned source to categorize.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        neighbours: int = 7,
        threshold: Decimal = Decimal("0.55"),
    ) -> None:
        self._embedder = embedder
        self._k = neighbours
        self._threshold = threshold
        self._units: weakref.WeakKeyDictionary[ReadOnlyUnit, _UnitScores] = weakref.WeakKeyDictionary()

    @property
    def threshold(self) -> Decimal:
        """The confidence an automatic categorization needs."""
        return self._threshold

    async def categorize(
        self,
        tx: Transaction,
        rules: Sequence[Rule],
        uow: UnitOfWork,
        *,
        keep_categories: bool = False,
        known: set[UUID] | None = None,
    ) -> CategorizerOutcome:
        """Categorize ``tx``. With ``keep_categories`` the person's splits are kept.

        Rules always run (their payee and tag actions apply), but a category given by a person
        is never replaced by an automatic one. ``known`` limits learned suggestions to categories
        that still exist. An abstention's explanation says what came closest and why it fell short.
        """
        outcome = apply_rules(rules, tx)
        result = outcome.transaction
        if keep_categories:
            result = replace(result, splits=tx.splits, categorization=tx.categorization)
            return CategorizerOutcome(result, outcome)
        if outcome.category_rule is not None:
            return CategorizerOutcome(result, outcome)
        decision = await self.decide(result, uow, known=known)
        chosen = None if decision.chosen is None else decision.chosen.category_id
        return CategorizerOutcome(result.with_category(chosen, decision.categorization()), outcome)

    async def suggest(
        self,
        tx: Transaction,
        uow: ReadOnlyUnit,
        *,
        limit: int = 3,
        include_weak: bool = True,
        known: set[UUID] | None = None,
    ) -> list[Suggestion]:
        """Candidate categories from memory and neighbours, best first, one per category (only
        those reaching the threshold unless ``include_weak``)."""
        decision = await self.decide(tx, uow, known=known)
        if include_weak and limit >= 0:  # only the candidates shown are explained
            return list(decision.top(limit))
        return [s for s in decision.suggestions if s.confidence >= self._threshold][:limit]

    async def read_ahead(self, uow: ReadOnlyUnit, text: str) -> None:
        """Read the word statistics a line of ``text`` will ask for (so a caller can send the
        read with its own, in one round trip); :meth:`decide` then finds them in the unit."""
        line = words(text)
        if line:
            await self._word_counts(uow, (ALL, *line))

    async def read_ahead_many(self, uow: ReadOnlyUnit, rows: Iterable[tuple[str, Money]]) -> None:
        """Read ahead what categorizing many rows (their text and amount) will ask, so that
        :meth:`decide` finds it in the unit: the word statistics of every line (one read), then
        the payee memory of their learned keys (one read) and the neighbours of those keys with
        the categorizer's own ``k`` (one batched search), then the statistics of the neighbours'
        words and of the keys' amount evidence (one read), and last the payee memory of the
        neighbours a key without an entry may borrow (one read, only then) — whatever the number
        of rows and of distinct keys. It is only a hint: a lookup it did not foresee is asked."""
        lines = [(line, amount) for text, amount in rows if (line := words(text))]
        if not lines:
            return
        stats = WordStats(await self._word_counts(uow, (ALL, *{w for line, _ in lines for w in line})))
        keyed = [(learned_key(line, stats), amount) for line, amount in lines]
        keys = sorted({key for key, _ in keyed})
        remembered = await uow.payees.get_many(keys)
        wanted = {w for key, amount in keyed for w in nearby_amount_words(key, amount)}
        if self._embedder is None:
            await self._word_counts(uow, sorted(wanted))
            return
        vectors = self._embedder.embed(keys)
        found = dict(zip(keys, await uow.examples.nearest_many(vectors, max(_RECALL, self._k)), strict=True))
        scores = self._unit(uow)  # decide searches by the vectors searched here, and asks nothing else ahead
        scores.vectors.update(zip(keys, vectors, strict=True))
        scores.ahead.update(keys)
        wanted.update(w for neighbours in found.values() for n in neighbours for w in words(n.text))
        stats = WordStats(await self._word_counts(uow, (ALL, *sorted(wanted))))
        borrowed = {  # the tolerant memory: a key without an entry borrows its best neighbour's
            other
            for key, neighbours in found.items()
            if key not in remembered
            for n in neighbours
            if (other := learned_key(words(n.text), stats)) and other not in found
        }
        if borrowed:
            await uow.payees.get_many(sorted(borrowed))

    async def read_ahead_learning(
        self, uow: UnitOfWork, lessons: Sequence[tuple[Transaction, UUID, float]]
    ) -> list[str]:
        """Read ahead the word statistics :meth:`learn` (a positive weight) and :meth:`unlearn`
        (a negative one), told these lessons in this order in the unit, will ask (one read,
        whatever the number of lessons), and return the payee key each lesson's :meth:`learn`
        will use (``""`` for an unlearn or a line without a payee): each lesson changes the
        statistics the next key is found with, so they are replayed here on a copy. The caller
        reads the keys' payee memory ahead (``payees.get_many``), with its own reads."""
        lines = [words(self.label_text(tx)) for tx, _, _ in lessons]
        vocabulary = {w for line in lines for w in line}
        if not vocabulary:
            return ["" for _ in lessons]
        scores = self._unit(uow)
        await self._read(uow, scores, (ALL, *sorted(vocabulary)))
        counts = {w: c for w in (ALL, *vocabulary) if (c := scores.counts.get(w))}
        keys = []
        for (_, category_id, weight), line in zip(lessons, lines, strict=True):
            for word in {ALL, *line} if line else ():
                if (changed := _added(counts.get(word), category_id, weight)) is None:
                    counts.pop(word, None)
                else:
                    counts[word] = changed
            keys.append(learned_key(line, WordStats(counts)) if line and weight > 0 else "")
        return keys

    async def decide(self, tx: Transaction, uow: ReadOnlyUnit, *, known: set[UUID] | None = None) -> Decision:
        """Weigh the payee memory and the re-scored neighbours of ``tx``'s line.

        The scoring of a line with given neighbours is kept for the unit (:class:`_UnitScores`):
        the rows of an import or of a page of suggestions that repeat a payee's line are scored
        once; only what their amounts say is asked row by row."""
        line = words(self.label_text(tx))
        scores = self._unit(uow)
        if line:
            await self._read(uow, scores, (ALL, *line))
        neighbours: list[Neighbour] = []
        allowed = scores.allowed(known)
        key = learned_key(line, scores.stats) if line else ""
        if self._embedder is not None and line:
            # search by the line's payee key: the bank's words would bring the bank's rows near;
            # the key's payee memory (read by _memory below, then kept by the unit) asked with it
            vector = scores.vectors.get(key)
            if vector is None:
                vector = scores.vectors[key] = self._embedder.embed([key])[0]
            if key in scores.ahead:  # both read ahead, kept by the unit: no tasks to gather
                found = await uow.examples.nearest(vector, max(_RECALL, self._k))
            else:
                found, _ = await together(uow.examples.nearest(vector, max(_RECALL, self._k)), uow.payees.get(key))
            neighbours = [n for n in found if allowed is None or n.category_id.int in allowed[1]]
        frozen = None if allowed is None else allowed[0]
        memo = (line, tuple(map(id, neighbours)), frozen)
        kept = scores.scored.get(memo)
        if kept is None:
            kept = scores.scored[memo] = (tuple(neighbours), await self._score(uow, scores, line, neighbours, frozen))
        scored = kept[1]
        if scored.decision is not None:
            return scored.decision
        # the words alone do not decide (a payee under several categories, or nothing sure
        # enough): ask what the amount says — only then, so a clear payee costs no read
        stats = scores.stats
        candidates = {c: candidate.copy() for c, candidate in scored.candidates.items()}
        amounts = await self._word_counts(uow, nearby_amount_words(key, tx.amount))
        evidence = amount_evidence(key, tx.amount, amounts)
        self._amounts(evidence, key, tx.amount, candidates, known)
        ranked = _ranked(candidates, evidence.payee_shares(scored.shares), scored.gate)
        return self._decision(line, stats, scored.payee, scored.gate, candidates, ranked, scored.caveat)

    async def _score(
        self,
        uow: ReadOnlyUnit,
        scores: _UnitScores,
        line: tuple[str, ...],
        neighbours: Sequence[Neighbour],
        known: Set[UUID] | None,
    ) -> _Scored:
        """The memory and the neighbours of ``line``, re-scored with the unit's word weights."""
        example_words = [words(n.text) for n in neighbours]  # by position: no UUID hashed per neighbour
        vocabulary = {ALL}.union(line, *example_words)
        missing = sorted(vocabulary.difference(scores.counts))
        if missing:
            await self._read(uow, scores, missing)
        stats = scores.stats
        resolved = resolve(line, stats, vocabulary)
        payee = max((stats.weight(w) for w in resolved), default=0.0)
        gate = min(1.0, payee / KEY_WEIGHT)  # a line of bank words and places names no payee
        # a never-seen word beside the payee's known words, in a familiar format, names another
        # payee: the known words' evidence counts for their share of the line's distinctive mass
        novel = unfamiliar_words(line, resolved, stats)
        familiar = familiar_share(resolved, novel, stats)
        gate *= familiar
        parts = word_parts(resolved, stats)  # a word printed run together: its parts' categories count too
        shares = category_shares((*resolved, *parts), stats)
        candidates: dict[UUID, _Candidate] = {}
        matched = sorted(
            ((scores.match(line, w), n, w) for n, w in zip(neighbours, example_words, strict=True)),
            key=lambda mnw: -mnw[0].score,
        )
        scored = [(m.score, n) for m, n, _ in matched]
        best_match = scored[0][0] if scored else 0.0
        near_words = [(m.score, n, w) for m, n, w in matched if m.score > 0 and m.score >= best_match * _NEAR_BEST]
        near_words = near_words[: self._k]
        near = [(s, n) for s, n, _ in near_words]
        weight_near = sum(s for s, _ in near)
        tolerant = [(m.score, n) for m, n, _ in matched if m.accounted]
        remembered = await self._memory(uow, line, resolved, stats, tolerant, candidates, known)
        for c in candidates.values() if shares and not parts else ():
            # the remembered payee's own words, when they are all the line's distinctive words, may
            # be surer than the line's words are (another payee shares one); a word printed run
            # together keeps its parts' mixture
            if c.payee_share > shares.get(c.category_id, 0.0):
                shares[c.category_id], c.own_words = c.payee_share, True
        for s, n, example in near_words:  # a row of the memory's own key is one of the observations it counted
            own = remembered is not None and scores.key(example) == remembered
            candidate = candidates.get(n.category_id)
            if candidate is None:
                candidate = candidates[n.category_id] = _Candidate(n.category_id)
            candidate.examples = (*candidate.examples, (s, n.text, own))
        for c in (c for c in candidates.values() if c.examples):
            agree = sum(s for s, _, _ in c.examples)
            c.neighbours = max(s for s, _, _ in c.examples) * agree / (weight_near + _PRIOR)
            others = [s for s, _, own in c.examples if not own]
            c.independent = max(others) * sum(others) / (weight_near + _PRIOR) if others else 0.0
            shown = ", ".join(f"{t!r} ({s:.2f})" for s, t, _ in c.examples[:3])
            counted = len(c.examples) - len(others)
            same = f" ({counted} of them the memory's own)" if counted else ""
            c.neighbours_why = f"{len(c.examples)} of {len(near)} closest labeled rows{same}: {shown}"
        labeled = scores.prior(stats, known)
        for category_id, share in labeled.items():  # the weakest evidence: how common the category is
            candidate = candidates.get(category_id)
            if candidate is None:
                candidate = candidates[category_id] = _Candidate(category_id)
            candidate.prior = share
        ranked = _ranked(candidates, shares, gate)
        caveat = "".join((
            f"; {', '.join(map(repr, novel))} never seen beside its known words: it may name another payee "
            f"(their evidence × {familiar:.2f})" if novel else "",
            f"; counted with {', '.join(map(repr, parts))}, the words it prints run together" if parts else "",
        ))  # fmt: skip
        if labeled and (len(shares) > 1 or not ranked or ranked[0].confidence(gate) < float(self._threshold)):
            return _Scored(candidates, shares, gate, payee, caveat, None)
        decision = self._decision(line, stats, payee, gate, candidates, ranked, caveat)
        return _Scored(candidates, shares, gate, payee, caveat, decision)

    def _decision(
        self,
        line: Sequence[str],
        stats: WordStats,
        payee: float,
        gate: float,
        candidates: dict[UUID, _Candidate],
        ranked: Sequence[_Candidate],
        caveat: str,
    ) -> Decision:
        decision = Decision(ranked, gate, caveat, self._threshold)
        if decision.chosen is None:
            matched = any(c.memory or c.neighbours or c.recurring for c in candidates.values())
            recurring = any(c.recurring for c in candidates.values())
            closest = decision.top(3) if matched else ()
            decision.explanation = self._abstention(line, stats, payee, closest, recurring)
        return decision

    async def _memory(
        self,
        uow: ReadOnlyUnit,
        line: Sequence[str],
        resolved: Sequence[str],
        stats: WordStats,
        scored: Sequence[tuple[float, Neighbour]],
        candidates: dict[UUID, _Candidate],
        known: Set[UUID] | None,
    ) -> str | None:
        """The payee memory: the line's own learned key, or (tolerant of typos and truncation)
        the key of the labeled row that matches it best among those accounting for every
        distinctive word of the line (``scored``). Returns the key remembered, if any."""
        key = learned_key(line, stats)
        entry = await uow.payees.get(key) if key else None
        scale = 1.0
        if entry is None and scored and scored[0][0] >= _TOLERANT:
            other = learned_key(words(scored[0][1].text), stats)
            if other and other != key:
                entry, scale = await uow.payees.get(other), scored[0][0]
        if entry is None:
            return None
        if known is not None:
            entry = entry.forget_unknown(known)
        picked = entry.suggestion()
        if picked is None:
            return entry.payee_key
        category_id, agreeing, total = picked
        c = candidates.setdefault(category_id, _Candidate(category_id))
        c.memory = scale * (agreeing + _PRIOR) / (total + 2 * _PRIOR)
        c.payee_share = payee_share(resolved, entry.payee_key, category_id, stats)
        matched = "" if scale == 1.0 else f", matched at {scale:.2f}"
        c.memory_why = f"you categorized {entry.payee_key!r} this way {agreeing} of the last {total} times{matched}"
        return entry.payee_key

    @staticmethod
    def _amounts(
        evidence: AmountEvidence,
        key: str,
        amount: Money,
        candidates: dict[UUID, _Candidate],
        known: set[UUID] | None,
    ) -> None:
        """The amount's evidence: the payee's categories at about this amount (which refine the
        payee memory) and the categories of rows of exactly this amount (a recurring bill)."""
        for category_id in evidence.payee:
            confidence, agreeing, total = evidence.payee_confidence(category_id)
            if (known is not None and category_id not in known) or not agreeing:
                continue
            c = candidates.setdefault(category_id, _Candidate(category_id))
            if confidence > c.memory:
                c.memory = confidence
                c.memory_why = f"you categorized {key!r} at about {amount} this way {agreeing:g} of {total:g} times"
        for category_id in evidence.recurring:
            confidence, agreeing, total = evidence.recurring_confidence(category_id)
            if (known is not None and category_id not in known) or not confidence:
                continue
            c = candidates.setdefault(category_id, _Candidate(category_id))
            c.recurring = confidence
            c.recurring_why = f"{agreeing:g} of {total:g} of your labeled rows of exactly {amount} are in this category"

    def _abstention(
        self, line: Sequence[str], stats: WordStats, payee: float, found: Sequence[Suggestion], recurring: bool
    ) -> str:
        close = "; ".join(f"{s.confidence} for {s.category_id}: {s.explanation}" for s in found[:3])
        amount = f"; nor did the amount reach the threshold {self._threshold}: {close}" if recurring else ""
        if not line:
            return f"no words to recognize a payee by (only numbers or symbols){amount}"
        if payee < KEY_WEIGHT:
            spread = ", ".join(f"{w!r} (under {stats.spread(w)} categories)" for w in line[:5])
            return f"no distinctive word names a payee: {spread}{amount}"
        if not found:
            return "nothing learned yet resembles it (no rule, payee memory or similar labeled row)"
        return f"no candidate reached the threshold {self._threshold}: {close}"

    async def learn(
        self, uow: UnitOfWork, tx: Transaction, category_id: UUID, at: datetime, *, weight: float = 1.0
    ) -> PayeeMemoryEntry | None:
        """Teach the word statistics and the payee memory that ``tx``'s line belongs in
        ``category_id`` (``weight`` below 1 for a confirmation rather than a correction). Returns
        the memory entry, or ``None`` when the line has no payee."""
        line = words(self.label_text(tx))
        if not line:
            return None
        await uow.payees.learn_words((ALL, *line), category_id, weight)
        self._add_counts(uow, (ALL, *line), category_id, weight)
        key = learned_key(line, WordStats(await self._word_counts(uow, (ALL, *line))))
        if not key:
            return None
        learned = amount_words(key, tx.amount)
        await uow.payees.learn_words(learned, category_id, weight)
        self._add_counts(uow, learned, category_id, weight)
        entry = await uow.payees.get(key) or PayeeMemoryEntry(key, (), at)
        entry = entry.learn(category_id, at)
        await uow.payees.put(entry)
        return entry

    async def unlearn(self, uow: UnitOfWork, tx: Transaction, category_id: UUID, *, weight: float = 1.0) -> None:
        """Take back what :meth:`learn` taught the word statistics about ``tx``'s line (a person
        moved it to another category); the payee memory keeps its recent history."""
        line = words(self.label_text(tx))
        if line:
            key = learned_key(line, WordStats(await self._word_counts(uow, (ALL, *line))))
            learned = (ALL, *line, *amount_words(key, tx.amount))
            await uow.payees.learn_words(learned, category_id, -weight)
            self._add_counts(uow, learned, category_id, -weight)

    def _unit(self, uow: ReadOnlyUnit) -> _UnitScores:
        """The unit's statistics and scores (a fresh, unkept one for a unit that cannot be
        weakly referenced)."""
        try:
            found = self._units.get(uow)
            if found is None:
                found = self._units[uow] = _UnitScores()
        except TypeError:  # a unit of work that cannot be weakly referenced: no cache
            return _UnitScores()
        return found

    @staticmethod
    async def _read(uow: ReadOnlyUnit, scores: _UnitScores, wanted: Iterable[str]) -> None:
        need = [w for w in dict.fromkeys(wanted) if w not in scores.counts]
        if need:
            scores.read(await uow.payees.word_counts(need), need)

    async def _word_counts(self, uow: ReadOnlyUnit, wanted: Sequence[str]) -> dict[str, dict[UUID, float]]:
        """The word statistics, read once per unit of work (an import asks for the same words
        row after row; only :meth:`learn` and :meth:`unlearn` change them, and they forget)."""
        scores = self._unit(uow)
        await self._read(uow, scores, wanted)
        counts = scores.counts
        return {w: c for w in dict.fromkeys(wanted) if (c := counts[w])}

    def _add_counts(self, uow: UnitOfWork, learned: Sequence[str], category_id: UUID, weight: float) -> None:
        """What :meth:`learn` or :meth:`unlearn` just wrote, applied to the unit's cache of the
        statistics as the repositories apply it (a count at zero or below is forgotten), so the
        unit need not read them again; the weights and scores computed from them start afresh."""
        try:
            scores = self._units.get(uow)
        except TypeError:  # never cached
            return
        if scores is None:
            return
        cache = scores.counts
        for word in set(learned):
            if word not in cache:
                continue  # never read in this unit: read when asked
            counts = cache[word] = _added(cache[word], category_id, weight)
            if counts:
                scores.seen[word] = counts
            else:
                scores.seen.pop(word, None)
        scores.changed()

    def _forget_counts(self, uow: UnitOfWork) -> None:
        with contextlib.suppress(TypeError):  # never cached
            self._units.pop(uow, None)

    @staticmethod
    def label_text(tx: Transaction) -> str:
        """The text indexed for a labeled transaction."""
        return tx.description or tx.payee
