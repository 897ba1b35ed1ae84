"""Learned payee normalization: word weights from the tenant's own rows, tolerant matching."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_core.model.payee_words import (
    ALL,
    KEY_WEIGHT,
    WordStats,
    category_shares,
    learned_key,
    match,
    resolve,
    word_similarity,
    words,
)

CATEGORIES = [uuid4() for _ in range(8)]
PAYEES = [
    ("padaria real", 0), ("kin soy", 1), ("farmer fresh", 2), ("edison power", 3),
    ("verizon wireless", 4), ("rose flower", 1), ("metro transport", 5), ("argo tea", 6),
]  # fmt: skip


def learned(lines: list[tuple[str, UUID]]) -> WordStats:
    """The statistics a tenant builds from labeled lines (what the repositories store)."""
    counts: dict[str, dict[UUID, float]] = {}
    for line, category in lines:
        for word in {ALL, *words(line)}:
            counts.setdefault(word, {})
            counts[word][category] = counts[word].get(category, 0.0) + 1.0
    return WordStats(counts)


def history(prefixes: list[str], places: list[str]) -> WordStats:
    rows = []
    for i, (payee, c) in enumerate(PAYEES * 3):
        prefix, place = prefixes[i % len(prefixes)], places[(i // 2) % len(places)]
        rows.append((f"{prefix} {payee.upper()} {place} {i:04d}", CATEGORIES[c]))
    return learned(rows)


def test_words_drop_numbers_and_symbols_but_keep_every_word() -> None:
    assert words("COMPRA CARTÃO 1234 Padaria-Real SÃO PAULO 03/11 #88 x") == (
        "compra", "cartao", "padaria", "real", "sao", "paulo",
    )  # fmt: skip
    assert words("12/03 4455") == ()
    assert len(words("ab " * 1000)) == 16  # bounded work for any input


def test_a_bank_prefix_and_places_the_code_never_saw_are_learned_to_weigh_little() -> None:
    # invented words: no list in the code knows them
    stats = history(["ZORP GLIMMER", "QUAX PAYMT", "VELTO"], ["FROBTOWN QZ", "GLENWICK XR"])
    for noise in ("zorp", "glimmer", "quax", "paymt", "velto", "frobtown", "qz", "glenwick"):
        assert stats.weight(noise) < KEY_WEIGHT, noise
    for payee_word in ("padaria", "soy", "fresh", "edison", "wireless"):
        assert stats.weight(payee_word) > 0.9, payee_word
    assert learned_key(words("ZORP GLIMMER KIN SOY FROBTOWN QZ 9911"), stats) == "kin soy"
    assert learned_key(words("VELTO FARMER FRESH GLENWICK XR"), stats) == "farmer fresh"


def test_while_one_category_is_labeled_every_word_may_be_the_payee() -> None:
    stats = learned([("COMPRA CARTAO PADARIA REAL", CATEGORIES[0])])
    assert stats.weight("compra") == stats.weight("padaria") == 1.0
    assert stats.weight("never-seen") == 1.0


def test_a_payee_shared_by_two_categories_stays_a_payee_but_splits_its_share() -> None:
    rows = [(f"POS {p.upper()}", CATEGORIES[c]) for p, c in PAYEES * 3]
    rows += [("POS AMZN MKTP", CATEGORIES[0]), ("POS AMZN MKTP", CATEGORIES[6])] * 3
    stats = learned(rows)
    assert stats.weight("amzn") >= KEY_WEIGHT
    shares = category_shares(words("POS AMZN MKTP"), stats)
    assert abs(shares[CATEGORIES[0]] - 0.5) < 1e-9
    assert abs(shares[CATEGORIES[6]] - 0.5) < 1e-9
    assert category_shares(words("POS BRAND NEW PAYEE"), stats) == {}


def test_typos_and_truncation_still_match() -> None:
    assert word_similarity("farmer", "farmer") == 1.0
    assert word_similarity("farrmer", "farmer") == 0.85  # one letter too many
    assert word_similarity("famrer", "farmer") == 0.85  # transposed
    assert word_similarity("fres", "fresh", truncated=True) > 0.9  # cut at the end of the line
    assert word_similarity("fre", "fresh", truncated=True) > 0.8
    assert word_similarity("fre", "fresh") <= 0.5  # inside the line a short prefix is likely another word
    assert word_similarity("kin", "soy") == 0.0
    stats = history(["ZORP GLIMMER", "QUAX PAYMT"], ["FROBTOWN QZ"])
    example = words("ZORP GLIMMER FARMER FRESH FROBTOWN QZ 0001")
    assert match(words("QUAX PAYMT FAMRER FRESH"), example, stats).score > 0.6
    assert match(words("VELTO NEWBANK FARMER FRE"), example, stats).score > 0.6  # unseen prefix, cut payee
    assert match(words("ZORP GLIMMER KIN SOY"), example, stats).score < 0.1
    assert resolve(words("ZORP GLIM"), stats, ["zorp", "glimmer"]) == ("zorp", "glimmer")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=60), st.data())
def test_a_line_cut_at_any_point_matches_its_payee_or_names_no_payee(payee: int, cut: int, data: st.DataObject) -> None:
    prefixes, places = ["ZORP GLIMMER", "QUAX PAYMT", "VELTO"], ["FROBTOWN QZ", "GLENWICK XR"]
    stats = history(prefixes, places)
    name, category = PAYEES[payee]
    full = f"{data.draw(st.sampled_from(prefixes))} {name.upper()} {data.draw(st.sampled_from(places))}"
    line = words(full[:cut])
    resolved = resolve(line, stats, {w for p, _ in PAYEES for w in p.split()} | set(words(" ".join(prefixes))))
    if max((stats.weight(w) for w in resolved), default=0.0) < KEY_WEIGHT:
        return  # cut inside the bank's words: no payee, and the categorizer says so
    scores = {p: match(line, words(p.upper()), stats).score for p, _ in PAYEES}
    best = max(scores, key=lambda p: scores[p])
    if scores[best] > 0:  # else too little of the payee is left to recognize: the categorizer abstains
        assert dict(PAYEES)[best] == category, (full[:cut], scores)


def test_a_match_accounts_for_the_line_s_distinctive_words_not_just_one_shared() -> None:
    stats = history(["POS PURCHASE", "DEBIT CARD", "ACH DEBIT"], ["CHICAGO", "BOSTON"])
    typo = match(words("ACH DEBIT EDISON POWRE"), words("POS PURCHASE EDISON POWER"), stats)
    cut = match(words("DEBIT CARD VERIZON WIRE"), words("POS PURCHASE VERIZON WIRELESS"), stats)
    assert typo.accounted
    assert cut.accounted
    # "powerline" shares letters with "power" (trigrams), but is another word: another payee
    other = match(words("POS PURCHASE EDISON POWERLINE"), words("POS PURCHASE EDISON POWER"), stats)
    assert other.score > 0
    assert not other.accounted
    assert other.unaccounted == ("powerline",)
