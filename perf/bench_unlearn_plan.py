"""What taking a correction's words back costs PostgreSQL: the unlearning statement of
``learn_words`` (a negative weight), before and after issue 24's "unlearn" rewrite.

    python perf/bench_unlearn_plan.py [--words 20000] [--repeat 7]

Embedded PostgreSQL, a tenant with ``--words`` words spread over four categories (a quarter
under each). Each statement is prepared and run as the application's role (row-level
security on) in a transaction rolled back afterwards, with ``EXPLAIN (ANALYZE, TIMING OFF)``:
the server's execution time (the median of ``--repeat``) and the rows its scans of
``payee_words`` read (kept and filtered out). Both with the table never analyzed (no column
statistics, an unknown row count: right after a tenant's first lessons) and analyzed, in a
custom plan and in the generic plan psycopg's prepared statement gets from its sixth run. The
table is vacuumed before each run (a run rolled back leaves its updated rows' dead versions).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.postgres.repositories import _UNLEARN_WORDS

# The statement before (commit d0f2eab): the rows locked by ``word = ANY(list)``, then a DELETE
# and an UPDATE joined back to payee_words by the category and the word.
_BEFORE = (
    "WITH held AS (SELECT word, weight + %s AS left_over FROM payee_words"
    " WHERE tenant_id = %s AND category_id = %s AND word = ANY(%s::text[]) ORDER BY word FOR UPDATE),"
    " gone AS (DELETE FROM payee_words p USING held h WHERE p.tenant_id = %s AND p.category_id = %s"
    " AND p.word = h.word AND h.left_over <= 1e-9)"
    " UPDATE payee_words p SET weight = h.left_over FROM held h WHERE p.tenant_id = %s"
    " AND p.category_id = %s AND p.word = h.word AND h.left_over > 1e-9"
)


def _rows_read(node: dict[str, Any]) -> float:
    read = 0.0
    if node.get("Relation Name") == "payee_words" and "Scan" in node["Node Type"]:
        removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        read = (node["Actual Rows"] + removed) * node["Actual Loops"]
    return read + sum(_rows_read(child) for child in node.get("Plans", []))


def _run(url: str, query: str, params: list[Any], analyzed: bool, mode: str) -> tuple[float, float]:
    numbered = iter(range(1, 20))
    prepared = re.sub("%s", lambda _: f"${next(numbered)}", query)
    literals = sql.SQL(", ").join(sql.Literal(str(p) if isinstance(p, uuid.UUID) else p) for p in params)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM payee_words")  # each run rolled back leaves 600 dead row versions
    with psycopg.connect(url) as conn:
        if analyzed:
            conn.execute("ANALYZE payee_words")
        else:
            conn.execute("DELETE FROM pg_statistic WHERE starelid = 'payee_words'::regclass")
            conn.execute("UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = 'payee_words'::regclass")
        conn.execute("SET LOCAL ROLE valorize_app")
        conn.execute(sql.SQL("SET LOCAL plan_cache_mode = {}").format(sql.Literal(mode)))
        tenant = next(p for p in params if isinstance(p, uuid.UUID))
        conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))
        conn.execute(sql.SQL("PREPARE probe ({}) AS ").format(sql.SQL(_types(query))) + sql.SQL(prepared))
        explain = sql.SQL("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) EXECUTE probe({})").format(literals)
        row = conn.execute(explain).fetchone()
        conn.rollback()
    assert row is not None
    plan = row[0][0]
    return plan["Execution Time"], _rows_read(plan["Plan"])


def _types(query: str) -> str:
    return "float8, uuid, uuid, text[], uuid, uuid, uuid, uuid" if query is _BEFORE else "float8, text[], uuid, uuid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            import asyncio

            asyncio.run(migrate(url))
            tenant, categories = uuid.uuid4(), [uuid.uuid4() for _ in range(4)]
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("INSERT INTO tenants (id, name, created_at) VALUES (%s, 'bench', now())", (tenant,))
                for i, category in enumerate(categories):
                    conn.execute(
                        "INSERT INTO categories (tenant_id, id, name, kind) VALUES (%s, %s, %s, 'expense')",
                        (tenant, category, f"c{i}"),
                    )
                conn.execute(
                    "INSERT INTO payee_words (tenant_id, word, category_id, weight)"
                    " SELECT %s, 'w' || g, (%s::uuid[])[1 + g %% 4], 1 + g %% 2 FROM generate_series(1, %s) g",
                    (tenant, categories, args.words),
                )
            category = categories[1]  # words w1, w5, w9, ...: half of them at 1 (forgotten), half at 2
            words = {"line (3 words)": ["w1", "w5", "w9"], "batch (600 words)": [f"w{i}" for i in range(1, 2401, 4)]}
            print(f"{args.words} words, medians of {args.repeat}: ms (rows of payee_words read)")
            print("| statistics, plan | words | before | after |\n|---|---|---:|---:|")
            for analyzed in (False, True):
                for mode in ("force_custom_plan", "force_generic_plan"):
                    for name, taken in words.items():
                        cells = []
                        for query in (_BEFORE, _UNLEARN_WORDS):
                            distinct = sorted(set(taken))
                            params: list[Any] = (
                                [-1.0, tenant, category, distinct, tenant, category, tenant, category]
                                if query is _BEFORE
                                else [-1.0, distinct, tenant, category]
                            )
                            runs = [_run(url, query, params, analyzed, mode) for _ in range(args.repeat)]
                            ms = statistics.median(r[0] for r in runs)
                            cells.append(f"{ms:.2f} ({runs[0][1]:.0f})")
                        label = f"{'analyzed' if analyzed else 'never analyzed'}, {mode.split('_')[1]}"
                        print(f"| {label} | {name} | {cells[0]} | {cells[1]} |")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
