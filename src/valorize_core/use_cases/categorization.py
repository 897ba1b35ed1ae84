"""The categorizer: rules → payee memory → embedding neighbours → uncategorized.

Each stage either decides, with a confidence and an explanation, or passes to the next. A
person's category always wins over every automatic stage; a person's correction is learned by
the payee memory at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.payees import payee_key
from valorize_core.model.rules import Rule, RuleOutcome, apply_rules
from valorize_core.model.transactions import Categorization, CategorizationSource, Transaction
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.ports.vector_index import Neighbour

__all__ = [
    "Categorizer",
    "CategorizerOutcome",
    "PayeeMemoryEntry",
    "Suggestion",
    "vote",
]

_PLACES = Decimal("0.001")


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
    """Similarity-weighted vote of labeled neighbours, best first.

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
        share = weight / total
        confidence = Decimal(repr(min(1.0, share * best[category_id].similarity))).quantize(
            _PLACES, rounding=ROUND_HALF_EVEN
        )
        names = [f"{n.text!r} ({n.similarity:.2f})" for n in neighbours if n.category_id == category_id][:3]
        out.append(
            Suggestion(
                category_id,
                CategorizationSource.NEIGHBOURS,
                confidence,
                f"similar to {', '.join(names)}",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class CategorizerOutcome:
    """The transaction after categorization and what the rules did to it."""

    transaction: Transaction
    rules: RuleOutcome


class Categorizer:
    """Runs the pipeline for one tenant's transaction.

    Args:
        embedder: turns descriptions into vectors; without one the neighbour stage is skipped.
        neighbours: how many neighbours vote.
        threshold: minimum confidence for a neighbour vote to categorize.
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
        that still exist.
        """
        outcome = apply_rules(rules, tx)
        result = outcome.transaction
        if keep_categories:
            result = replace(result, splits=tx.splits, categorization=tx.categorization)
            return CategorizerOutcome(result, outcome)
        if outcome.category_rule is not None:
            return CategorizerOutcome(result, outcome)
        best = next(iter(await self.suggest(result, uow, limit=1, include_weak=False, known=known)), None)
        if best is None:
            return CategorizerOutcome(result.with_category(None, Categorization.none()), outcome)
        return CategorizerOutcome(result.with_category(best.category_id, best.as_categorization()), outcome)

    async def suggest(
        self,
        tx: Transaction,
        uow: UnitOfWork,
        *,
        limit: int = 3,
        include_weak: bool = True,
        known: set[UUID] | None = None,
    ) -> list[Suggestion]:
        """Candidate categories from memory and neighbours, best first, one per category."""
        out: list[Suggestion] = []
        entry = await uow.payees.get(payee_key(tx.description or tx.payee))
        picked = entry.suggestion() if entry else None
        if entry is not None and known is not None:
            entry = entry.forget_unknown(known)
            picked = entry.suggestion()
        if entry is not None and picked is not None:
            category_id, agreeing, total = picked
            confidence = (Decimal(agreeing) / Decimal(total)).quantize(_PLACES)
            out.append(
                Suggestion(
                    category_id,
                    CategorizationSource.MEMORY,
                    confidence,
                    f"you categorized {entry.payee_key!r} this way {agreeing} of the last {total} times",
                )
            )
        if self._embedder is not None and (include_weak or not out):
            vector = self._embedder.embed([tx.description or tx.payee])[0]
            neighbours = await uow.examples.nearest(vector, self._k)
            for s in vote(neighbours):
                if include_weak or s.confidence >= self._threshold:
                    out.append(s)
        seen: set[UUID] = set()
        unique = []
        for s in out:
            if s.category_id not in seen and (known is None or s.category_id in known):
                seen.add(s.category_id)
                unique.append(s)
        return unique[:limit]

    @staticmethod
    def label_text(tx: Transaction) -> str:
        """The text indexed for a labeled transaction."""
        return tx.description or tx.payee
