"""Description normalization: what banks add is stripped, so the same payee meets itself."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_core.model.payees import MAX_PAYEE, display_payee, payee_key

WORDS = ["padaria", "real", "posto", "shell", "mercado", "zaffari", "farmacia", "cafe", "modagor", "kin", "soy",
         "goba", "uncle", "boons", "netflix", "uber", "ifood", "livraria", "cultura", "drogasil", "renner",
         "chipotle", "starbucks", "verizon", "wireless", "edison", "power", "corner", "deli"]  # fmt: skip


@pytest.mark.parametrize(
    "noisy",
    [
        "COMPRA CARTAO 1234 PADARIA REAL SAO PAULO BR 03/11",
        "Compra no debito Padaria Real 03/11/2026",
        "POS PURCHASE PADARIA REAL #4821 SAO PAULO SP",
        "DEBIT CARD PURCHASE 03/11 PADARIA REAL NEW YORK NY",
        "PURCHASE AUTHORIZED ON 03/11 PADARIA REAL CARD 1234",
        "PAYPAL *PADARIA REAL",
        "SQ *PADARIA REAL 03/11",
        "ACH DEBIT PADARIA REAL REF 4829104",
        "padaria real 12:31",
        "PADARIA REAL ****1234",
        "Padaria Real parc 1/3",
    ],
)
def test_bank_noise_is_stripped(noisy: str) -> None:
    assert payee_key(noisy) == "padaria real"
    assert display_payee(noisy) == "Padaria Real"


payees = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
prefixes = st.sampled_from(["", "COMPRA CARTAO ", "COMPRA CARTAO DEBITO ", "POS PURCHASE ", "PIX ENVIADO ",
                            "DEBIT CARD PURCHASE ", "PAYPAL *", "SQ *", "ACH DEBIT ", "PAGAMENTO "])  # fmt: skip
suffixes = st.sampled_from(["", " SAO PAULO SP", " SAO PAULO BR", " NEW YORK NY", " CURITIBA PR", " BR", " US"])


@settings(max_examples=300)
@given(payee=payees, prefix=prefixes, suffix=suffixes, card=st.integers(0, 9999), day=st.integers(1, 28),
       month=st.integers(1, 12), store=st.integers(100, 99999), casing=st.sampled_from(["upper", "lower", "title"]),
       layout=st.integers(0, 3))  # fmt: skip
def test_any_payee_wrapped_in_bank_noise_meets_itself(
    payee: str, prefix: str, suffix: str, card: int, day: int, month: int, store: int, casing: str, layout: int
) -> None:
    noise = [f"{card:04d}", f"{day:02d}/{month:02d}", f"#{store}", f"REF {store}{card}"][layout]
    text = f"{prefix}{payee.upper()} {noise}{suffix}" if layout % 2 else f"{prefix}{noise} {payee.upper()}{suffix}"
    text = getattr(text, casing)()
    assert payee_key(text) == payee_key(payee) == payee


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_normalization_is_idempotent_and_never_empties_words(text: str) -> None:
    key = payee_key(text)
    assert payee_key(key) == key
    assert key == key.strip()
    assert key == key.casefold()
    if any(ch.isalpha() for ch in text):
        assert key


@pytest.mark.parametrize(
    ("description", "payee"),
    [
        ("padaria " * 62, ("Padaria " * 25).strip()),  # 495 characters: cut at the last whole word
        ("a" * 300, "A" + "a" * (MAX_PAYEE - 1)),  # one long word: cut at a character
        ("padaria " + "x" * 400, "Padaria X" + "x" * (MAX_PAYEE - 9)),  # a word boundary too early
        ("\U0001f4b0" * 500, "\U0001f4b0" * MAX_PAYEE),
    ],
)
def test_a_payee_derived_from_a_long_description_fits(description: str, payee: str) -> None:
    assert display_payee(description) == payee
    assert len(display_payee(description)) <= MAX_PAYEE


@settings(max_examples=200)
@given(st.text(min_size=150, max_size=500))
def test_a_derived_payee_never_exceeds_its_limit(description: str) -> None:
    assert len(display_payee(description)) <= MAX_PAYEE
