"""What a matching rule does to a transaction: set a category, rename the payee, add a tag, split."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.text import clean_name, clean_tag, clean_text
from valorize_core.model.transactions import Split


@dataclass(frozen=True, slots=True)
class SetCategory:
    """Put the whole amount in one category."""

    category_id: UUID

    def __post_init__(self) -> None:
        if not isinstance(self.category_id, UUID):
            raise ValidationError.for_field("category_id", "must be a category id")

    def describe(self) -> str:
        """Human wording."""
        return f"set category {self.category_id}"


@dataclass(frozen=True, slots=True)
class RenamePayee:
    """Replace the payee with a clean name."""

    payee: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "payee", clean_name(self.payee, "payee"))

    def describe(self) -> str:
        """Human wording."""
        return f"rename payee to {self.payee!r}"


@dataclass(frozen=True, slots=True)
class AddTag:
    """Add a tag."""

    tag: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "tag", clean_tag(self.tag, "tag"))

    def describe(self) -> str:
        """Human wording."""
        return f"add tag {self.tag!r}"


@dataclass(frozen=True, slots=True)
class SplitPart:
    """One part of a split: a percentage of the amount or a fixed amount (its magnitude)."""

    category_id: UUID | None
    percent: Decimal | None = None
    fixed: Money | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.fixed is None):
            raise ValidationError.for_field("percent", "give either percent or fixed")
        if self.percent is not None:
            p = self.percent
            if not isinstance(p, Decimal) or not p.is_finite() or not 0 < p <= 100:
                raise ValidationError.for_field("percent", "must be a decimal in (0, 100]")
            if p.as_tuple().exponent < -2:  # type: ignore[operator]
                raise ValidationError.for_field("percent", "at most two decimal places")
        if self.fixed is not None and (not isinstance(self.fixed, Money) or self.fixed.minor <= 0):
            raise ValidationError.for_field("fixed", "must be a positive amount")
        object.__setattr__(self, "memo", clean_text(self.memo, "memo", 500))

    @property
    def basis_points(self) -> int:
        """The percentage in hundredths of a percent."""
        return int((self.percent or Decimal(0)) * 100)


@dataclass(frozen=True, slots=True)
class SplitBy:
    """Split the amount: percentages of it and fixed amounts, the rest to ``remainder_category_id``."""

    parts: tuple[SplitPart, ...]
    remainder_category_id: UUID | None = None

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        if not parts or len(parts) > 50:
            raise ValidationError.for_field("parts", "a split needs 1 to 50 parts")
        if sum(p.basis_points for p in parts) > 10_000:
            raise ValidationError.for_field("parts", "percentages add up to more than 100")
        object.__setattr__(self, "parts", parts)

    def splits_for(self, amount: Money) -> tuple[Split, ...] | None:
        """The splits for ``amount``, or ``None`` when the fixed parts do not fit in it."""
        sign = -1 if amount.minor < 0 else 1
        percent_parts = [p for p in self.parts if p.percent is not None]
        weights = [p.basis_points for p in percent_parts]
        shares = amount.allocate([*weights, 10_000 - sum(weights)]) if weights else [amount]
        out: list[Split] = [Split(p.category_id, s, p.memo) for p, s in zip(percent_parts, shares, strict=False)]
        remainder = shares[-1]
        for part in self.parts:
            if part.fixed is None:
                continue
            if part.fixed.currency != amount.currency:
                return None
            piece = Money(sign * part.fixed.minor, amount.currency)
            remainder = remainder - piece
            out.append(Split(part.category_id, piece, part.memo))
        if remainder.minor * sign < 0:
            return None
        if remainder.minor:
            out.append(Split(self.remainder_category_id, remainder, ""))
        return tuple(out)

    def describe(self) -> str:
        """Human wording."""
        shown = [f"{p.percent}%" if p.percent is not None else str(p.fixed) for p in self.parts]
        return "split " + " / ".join(shown) + " + remainder"


Action: TypeAlias = SetCategory | RenamePayee | AddTag | SplitBy
_ACTION_TYPES = (SetCategory, RenamePayee, AddTag, SplitBy)
