"""Reading ahead for the categorizer: what categorizing many rows will ask, in batched reads.

The categorizer looks up one row at a time (its payee memory entry, then its neighbours), which
on a database is two round trips per row. Before a batch (an import, a page of suggestions) the
use case calls :func:`read_ahead` with the rows' texts: one read of every payee memory entry and
one search of every neighbourhood the memory leaves open. The unit keeps the answers (see the
``get_many`` and ``nearest_many`` ports), so the categorizer's own lookups ask the storage
nothing. It is only a hint: the outcomes are the same without it, a lookup it did not foresee
is simply asked.
"""

from __future__ import annotations

from collections.abc import Iterable

from valorize_core.model.payees import payee_key
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.unit_of_work import UnitOfWork

__all__ = ["NEIGHBOURS_AHEAD", "read_ahead"]

# Neighbours searched per text: at least as many as the categorizer asks for (7), so that its
# search is answered by this one.
NEIGHBOURS_AHEAD = 10


async def read_ahead(
    uow: UnitOfWork, embedder: Embedder | None, texts: Iterable[str], *, every_neighbourhood: bool = False
) -> None:
    """Read the payee memory entries of ``texts`` and the neighbours of those the memory does
    not answer (of all of them with ``every_neighbourhood``, as suggestions show both)."""
    keys = {text: payee_key(text) for text in texts}
    if not keys:
        return
    found = await uow.payees.get_many(set(keys.values()))
    if embedder is None:
        return
    open_texts = sorted(
        text for text, key in keys.items() if every_neighbourhood or key not in found or found[key].suggestion() is None
    )
    if open_texts:
        await uow.examples.nearest_many(embedder.embed(open_texts), NEIGHBOURS_AHEAD)
