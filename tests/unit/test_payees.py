"""Description normalization: what banks add is stripped, so the same payee meets itself."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_core.model.payees import display_payee, payee_key

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
