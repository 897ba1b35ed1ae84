"""The per-process caches of a line's payee key and words: an import's hits, and flat memory.

An import asks each of its lines' ``payee_key`` twice while fingerprinting, then its words for
the read-ahead, then the key and the words again row by row (``ImportStatement.store``). The
caches keep those hits within an import; what they kept beyond it (65,536 / 32,768 lines) was
only memory: small strings alive across imports among each import's short-lived objects, which
keep pymalloc's arenas from going back to the system (perf/README.md, "The payee caches are not
the growth").
"""

from __future__ import annotations

import gc
import os
import re
import sys
import tempfile
import uuid

import pytest

from valorize_core.model.payee_words import words
from valorize_core.model.payees import payee_key


def _arenas() -> int:
    """pymalloc's arenas now (1 MiB each; its statistics go to the C-level stderr)."""
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        found = re.search(rb"# arenas allocated current\s*=\s*([\d,]+)", out.read())
    if found is None:
        pytest.skip("pymalloc is not the allocator (PYTHONMALLOC)")
    return int(found.group(1).replace(b",", b""))


def _import(lines: int) -> int:
    """What an import of ``lines`` new descriptions asks of the caches, with a row's worth of
    short-lived objects per line (parsed row, transaction); the misses it caused."""
    before = payee_key.cache_info().misses + words.cache_info().misses
    described = [f"PADARIA REAL {uuid.uuid4().hex[:8]}" for _ in range(lines)]
    rows = []
    for line in described:  # the fingerprints
        rows.append({"description": line, "key": payee_key(line), "print": payee_key(line) + line})
    for line in described:  # the read-ahead
        words(line)
    for row, line in zip(rows, described, strict=True):  # the rows stored, one by one
        row["transaction"] = (uuid.uuid4(), payee_key(line).title(), words(line), str(row["print"]).upper())
    del rows, described
    gc.collect()
    return payee_key.cache_info().misses + words.cache_info().misses - before


def test_an_import_of_four_thousand_new_lines_computes_each_key_and_words_once() -> None:
    payee_key.cache_clear()
    words.cache_clear()
    assert _import(4000) == 2 * 4000


def test_importing_new_descriptions_after_the_first_import_holds_no_more_arenas() -> None:
    payee_key.cache_clear()
    words.cache_clear()
    _import(2000)
    warm = _arenas()
    for _ in range(6):
        _import(2000)
    assert _arenas() - warm <= 1  # 12,000 more cache entries kept alive held ~6 more
