"""A line cut right after a word of the payee (``ACH DEBIT KIN`` of ``ACH DEBIT KIN SOY``) reads as
cut there, as a line cut inside a word does: the payee's words after the cut count half."""

from __future__ import annotations

from uuid import UUID

from valorize_core.model.payee_words import ALL, WordStats, match, words

FOOD, HOME, CAR = UUID(int=1), UUID(int=2), UUID(int=3)
STATS = WordStats({
    ALL: {FOOD: 10.0, HOME: 10.0, CAR: 10.0},
    "kin": {FOOD: 5.0}, "soy": {FOOD: 5.0},
    **{w: {FOOD: 3.0, HOME: 3.0, CAR: 3.0} for w in ("ach", "debit", "ref")},
})  # fmt: skip
EXAMPLE = words("ACH DEBIT KIN SOY REF 5871351750")


def test_a_line_cut_after_a_payee_word_matches_like_one_cut_inside_the_next() -> None:
    after_word = match(words("ACH DEBIT KIN"), EXAMPLE, STATS).score
    inside_word = match(words("ACH DEBIT KIN S"), EXAMPLE, STATS).score  # a single letter is no word
    assert after_word > 0.6  # kin found, soy after the cut counts half: 1 / 1.5
    assert after_word == inside_word
    assert match(words("ACH DEBIT KI"), EXAMPLE, STATS).score < after_word  # 'ki': too short to be read as kin
    # the same word *inside* the line is no cut: a line that goes on past it is another payee
    assert match(words("ACH DEBIT KIN ARVO"), EXAMPLE, STATS).score < after_word
    assert match(words("ACH DEBIT KIN SOY"), EXAMPLE, STATS).score > 0.95  # only the bank's "ref" is missing
