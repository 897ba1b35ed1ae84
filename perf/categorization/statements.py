"""Statement rows the way banks print them, with every difficulty of issue 23.

A person's ledger comes from ``bean-example`` (the ``beancount`` package): dates, amounts, payees
and the category of each card or checking transaction. The text of each row is rewritten into
what a bank prints, from pools of statement formats and places. The earlier two thirds of the
ledger teach (clean-ish rows: the training formats and places, occasional terminal truncation
and typos); every row of the later third gets one *kind*:

* ``clean``: a training format and place;
* ``unseen_format``: a statement format (and place) that never appears in training;
* ``truncated``: the whole line cut at any point, not only inside the payee (it may be cut
  inside the bank's prefix, leaving no payee at all);
* ``typo``: one edit inside the payee name (substitution, deletion, transposition, doubling);
* ``new_payee``: a payee never seen before (an invented name), its category unknowable from
  the history;
* ``shared``: one of two payees of different categories that print the same text (a
  marketplace), in training and test alike.

``held_out=True`` swaps every pool (formats, places, shared and invented names, and every payee
name of the ledger is renamed) for ones never looked at while the categorizer was written; use
it with seeds not used otherwise. The pools below are the *tuning* ones.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

__all__ = ["KINDS", "Row", "ledger_rows", "split"]

BANK_ACCOUNTS = ("Assets:US:BofA:Checking", "Liabilities:US:Chase:Slate")
KINDS = ("clean", "unseen_format", "truncated", "typo", "new_payee", "shared")


@dataclass(frozen=True)
class _Pools:
    train_formats: tuple[str, ...]
    test_formats: tuple[str, ...]
    train_places: tuple[str, ...]
    test_places: tuple[str, ...]
    syllables: tuple[str, ...]
    shared: str


_TUNING = _Pools(
    train_formats=(
        "COMPRA CARTAO {card} {P} {place} {dm}",
        "POS PURCHASE {P} #{store} {place}",
        "DEBIT CARD PURCHASE {dm} {P} {place}",
        "PURCHASE AUTHORIZED ON {dm} {P} {place} CARD {card}",
        "{P} {ref}",
        "PAYPAL *{PNS}",
        "SQ *{P} {dm}",
        "ACH DEBIT {P} REF {ref}",
        "{P}",
    ),
    test_formats=(
        "CHECKCARD {dm} {P} {place} {ref}",
        "VISA DEBITO {P} {place} {dm}",
        "ELECTRONIC PMT {P} ID {ref}",
        "TST* {P} {place}",
        "RECURRING PYMT {P} {dm} XXXX{card}",
    ),
    train_places=("SAN FRANCISCO CA", "NEW YORK NY", "CHICAGO IL", "AUSTIN TX", "BOSTON MA", "SEATTLE WA"),
    test_places=("DENVER CO", "MIAMI FL", "PORTLAND OR", "ATLANTA GA"),
    syllables=("ka", "lo", "mi", "ren", "to", "va", "sun", "bri", "del", "mo", "qua", "zen"),
    shared="AMZN MKTP US",
)
_HELD_OUT = _Pools(
    train_formats=(
        "PGTO DEBITO {P} {place} {dm}",
        "CARD TXN {card} {P} {place}",
        "{dm} {P} {place} AUTH {ref}",
        "POINT OF SALE {P} STORE {store} {place}",
        "DDA {P} {ref}",
        "{P} {place}",
        "WEB PMT *{PNS} {ref}",
    ),
    test_formats=(
        "MC DEBIT {dm} {P} {card} {place}",
        "COMPRA INTERNACIONAL {P} {place} {dm}",
        "BILLPAY {P} CONF {ref}",
        "CTLS {P} {store} {place}",
    ),
    train_places=("PHOENIX AZ", "DALLAS TX", "DETROIT MI", "NASHVILLE TN", "OMAHA NE"),
    test_places=("TAMPA FL", "RALEIGH NC", "BOISE ID", "TUCSON AZ"),
    syllables=("ga", "ri", "plo", "ne", "sa", "tu", "vik", "ar", "po", "lem", "dro", "ix"),
    shared="WALMART SUPERCENTER",
)


@dataclass(frozen=True)
class Row:
    """One statement row, the category it belongs to, and its difficulty."""

    booked_on: date
    text: str
    amount: Decimal
    bank_account: str
    category: str
    kind: str
    payee: str = ""
    """Who was paid (as the ledger names them; an invented name for ``new_payee``)."""


def _invented(rng: random.Random, pools: _Pools) -> str:
    words = ["".join(rng.choice(pools.syllables) for _ in range(rng.randint(2, 3))) for _ in range(rng.randint(1, 2))]
    return " ".join(words)


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return name
    i = rng.choice(letters[1:-1])
    edit = rng.randrange(4)
    if edit == 0:
        return name[:i] + rng.choice("ABCDEFGHIJKLMNOPRSTUVW") + name[i + 1 :]
    if edit == 1:
        return name[:i] + name[i + 1 :]
    if edit == 2 and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i] + name[i:]


def _print(payee: str, fmt: str, place: str, rng: random.Random) -> str:
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    return fmt.format(
        P=payee, PNS=payee.replace(" ", ""), card=f"{rng.randint(0, 9999):04d}", store=rng.randint(100, 99999),
        place=place, dm=f"{day:02d}/{month:02d}", ref=rng.randint(10**5, 10**10),
    )  # fmt: skip


def _case(text: str, rng: random.Random) -> str:
    casing = rng.random()
    return text.lower() if casing < 0.15 else text.title() if casing < 0.3 else text


def _ledger(seed: int, years: int, workdir: Path) -> list[tuple[date, str, Decimal, str, str]]:
    from beancount import loader
    from beancount.core.data import Transaction as BeanTxn

    path = workdir / f"example-{seed}.beancount"
    bean_example = Path(sys.executable).with_name("bean-example")
    subprocess.run(
        [str(bean_example), "--seed", str(seed), "--date-begin", "2022-01-01",
         "--date-end", f"{2021 + years}-12-31", "--output", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    entries, _, _ = loader.load_file(str(path))
    out = []
    for entry in entries:
        if not isinstance(entry, BeanTxn) or len(entry.postings) != 2:
            continue
        bank = [p for p in entry.postings if p.account in BANK_ACCOUNTS]
        other = [p for p in entry.postings if p.account not in BANK_ACCOUNTS]
        if len(bank) != 1 or len(other) != 1 or not other[0].account.startswith(("Expenses:", "Income:")):
            continue
        payee = entry.payee or entry.narration
        out.append((entry.date, payee, bank[0].units.number, bank[0].account, other[0].account))
    out.sort(key=lambda r: r[0])
    return out


def split(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """The earlier two thirds (training) and the later third (test): a time split."""
    cut = len(rows) * 2 // 3
    return rows[:cut], rows[cut:]


def ledger_rows(seed: int, years: int, workdir: Path, *, held_out: bool = False) -> list[Row]:
    """One person's statement rows, in date order, training rows first (see :func:`split`)."""
    pools = _HELD_OUT if held_out else _TUNING
    rng = random.Random(seed * 7919 + held_out)
    ledger = _ledger(seed, years, workdir)
    names = {payee: payee for _, payee, _, _, _ in ledger}
    if held_out:  # every payee renamed: names never looked at while tuning
        names = {payee: _invented(rng, pools).title() for payee in sorted(names)}
    by_category: dict[str, Counter[str]] = {}
    for _, payee, _, _, category in ledger:
        by_category.setdefault(category, Counter())[payee] += 1
    busy = sorted(by_category, key=lambda c: (-by_category[c].total(), c))
    # the most frequent payee of each of the two busiest categories prints the same text
    shared = {by_category[c].most_common(1)[0][0] for c in busy[:2]} if len(busy) > 1 else set()
    cut = len(ledger) * 2 // 3
    rows = []
    for i, (booked_on, payee, amount, account, category) in enumerate(ledger):
        name = pools.shared if payee in shared else names[payee].upper()
        kind = "shared" if payee in shared else "clean"
        who = pools.shared if payee in shared else payee
        fmt, place = rng.choice(pools.train_formats), rng.choice(pools.train_places)
        if i < cut:
            if rng.random() < 0.2:
                name = name[: rng.randint(8, 22)].rstrip()  # terminals truncate
            if rng.random() < 0.05:
                name = _typo(name, rng)
            text = _print(name, fmt, place, rng)
        else:
            draw = rng.random()
            if kind == "shared" or draw < 0.40:
                text = _print(name, fmt, place, rng)
            elif draw < 0.58:
                kind = "unseen_format"
                text = _print(name, rng.choice(pools.test_formats), rng.choice(pools.test_places), rng)
            elif draw < 0.74:
                kind = "truncated"
                full = _print(name, fmt, place, rng)
                text = full[: rng.randint(min(6, len(full)), len(full))].rstrip() or full
            elif draw < 0.90:
                kind = "typo"
                text = _print(_typo(name, rng), fmt, place, rng)
            else:
                kind = "new_payee"
                who = _invented(rng, pools).upper()
                text = _print(who, fmt, place, rng)
        rows.append(Row(booked_on, _case(text, rng), amount, account, category, kind, who))
    return rows
