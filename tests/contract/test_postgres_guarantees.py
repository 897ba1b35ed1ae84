"""What only the database can promise: row-level security, the splits trigger, the pool's
recovery from dropped connections, migrations, and the HNSW path of the vector index."""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from pg_support import pg_outbox

from valorize_adapters.postgres import PostgresBackend, PostgresUnitOfWorkFactory
from valorize_adapters.postgres.errors import unavailable
from valorize_adapters.postgres.migrate import Migration, MigrationError, available_migrations, migrate
from valorize_adapters.postgres.pool import check_idle_connection, open_pool
from valorize_adapters.postgres.session import Session
from valorize_core.model.errors import Unavailable, UnbalancedSplits
from valorize_core.testing.contracts import PortsContract, VectorIndexContract
from valorize_core.testing.loop import run
from valorize_core.use_cases.context import Ports


class TestRowLevelSecurity(PortsContract):
    @pytest.fixture
    def ports(self, pg_backend: PostgresBackend):  # type: ignore[no-untyped-def]
        return pg_backend.ports

    def test_a_query_that_forgets_its_tenant_filter_sees_only_its_tenant(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        a, b = self.new_tenant(ports), self.new_tenant(ports)
        mine, theirs = self.account(a, "Mine"), self.account(b, "Theirs")
        self.write(ports, a, lambda uow: uow.accounts.add(mine))
        self.write(ports, b, lambda uow: uow.accounts.add(theirs))
        self.write(ports, b, lambda uow: uow.transactions.add(self.transaction(b, theirs)))

        async def unfiltered(tenant: uuid.UUID | None) -> tuple[set[uuid.UUID], int, int]:
            async with pg_backend.pool.connection() as conn:
                s = Session(conn, tenant)
                accounts = {r["id"] for r in await s.fetch("SELECT id FROM accounts")}
                txs = (await s.fetch("SELECT count(*) AS n FROM transactions"))[0]["n"]
                splits = (await s.fetch("SELECT count(*) AS n FROM splits"))[0]["n"]
                await s.rollback()
                return accounts, txs, splits

        accounts, txs, splits = run(unfiltered(a))
        assert theirs.id not in accounts
        assert mine.id in accounts
        assert (txs, splits) == (0, 0)
        assert run(unfiltered(None)) == (set(), 0, 0)  # no tenant set: nothing at all

    def test_writing_into_another_tenant_is_refused(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        a, b = self.new_tenant(ports), self.new_tenant(ports)
        stray = self.account(b, "Stray")

        async def sneak() -> None:
            async with pg_backend.pool.connection() as conn:
                s = Session(conn, a)
                try:
                    await s.execute(
                        "INSERT INTO accounts (tenant_id, id, name, kind, currency, exponent, opening_minor,"
                        " balance_minor, opened_on, created_at) VALUES (%s, %s, 'x', 'cash', 'BRL', 2, 0, 0,"
                        " '2026-01-01', now())",
                        (b, stray.id),
                    )
                finally:
                    await s.rollback()

        with pytest.raises(Exception) as caught:  # noqa: PT011
            run(sneak())
        assert "row-level security" in str(caught.value.__cause__ or caught.value) or "not visible" in str(caught.value)

    def test_the_application_is_not_a_superuser(self, pg_backend: PostgresBackend) -> None:
        async def who() -> tuple[str, bool]:
            async with pg_backend.pool.connection() as conn:
                row = await (
                    await conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
                ).fetchone()
                await conn.rollback()
                assert row is not None
                return row[0], row[1]

        assert run(who()) == ("valorize_app", False)


class TestSplitsTrigger(PortsContract):
    def test_unbalanced_splits_are_rejected_at_commit(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        tx = self.transaction(t, acc, -1000)
        self.write(ports, t, lambda uow: uow.transactions.add(tx))

        async def tamper(statement: str) -> None:
            async with ports.uow(t) as uow:
                await uow.session.execute(statement, (t, tx.id))  # type: ignore[attr-defined]
                await uow.commit()

        for statement in (
            "UPDATE splits SET amount_minor = amount_minor + 1 WHERE tenant_id = %s AND transaction_id = %s",
            "UPDATE transactions SET amount_minor = -999 WHERE tenant_id = %s AND id = %s",
            "DELETE FROM splits WHERE tenant_id = %s AND transaction_id = %s",
        ):
            with pytest.raises(UnbalancedSplits):
                run(tamper(statement))
        assert self.read(ports, t, lambda uow: uow.transactions.get(tx.id)) == tx

    def test_a_transaction_without_splits_or_with_a_split_off_by_one_is_refused(
        self, pg_backend: PostgresBackend
    ) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        tx = self.transaction(t, acc, -1000, categories=(None, None))
        self.write(ports, t, lambda uow: uow.transactions.add(tx))

        async def copy(splits: int, off_by: int) -> None:
            async with ports.uow(t) as uow:
                new_id = uuid.uuid4()
                await uow.session.execute(  # type: ignore[attr-defined]
                    "INSERT INTO transactions (tenant_id, id, account_id, booked_on, description, payee,"
                    " amount_minor, currency, exponent, status, source, cat_source, cat_confidence, cat_explanation,"
                    " created_at, updated_at) SELECT tenant_id, %s, account_id, booked_on, description, payee,"
                    " amount_minor, currency, exponent, status, source, cat_source, cat_confidence, cat_explanation,"
                    " created_at, updated_at FROM transactions WHERE tenant_id = %s AND id = %s",
                    (new_id, t, tx.id),
                )
                for position in range(splits):
                    await uow.session.execute(  # type: ignore[attr-defined]
                        "INSERT INTO splits (tenant_id, transaction_id, position, amount_minor)"
                        " VALUES (%s, %s, %s, %s)",
                        (t, new_id, position, -500 + (off_by if position == 0 else 0)),
                    )
                await uow.commit()

        for splits, off_by in ((0, 0), (2, 1), (2, -1)):
            with pytest.raises(UnbalancedSplits):
                run(copy(splits, off_by))
        run(copy(2, 0))  # the same rows, balanced

        async def counted() -> int:
            async with ports.uow(t) as uow:
                rows = await uow.session.fetch("SELECT count(*) AS n FROM transactions")  # type: ignore[attr-defined]
                return int(rows[0]["n"])

        assert run(counted()) == 2

    def test_rewriting_splits_in_any_order_is_fine_within_a_unit(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        acc = self.account(t)
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        tx = self.transaction(t, acc, -1000, categories=(None, None))
        self.write(ports, t, lambda uow: uow.transactions.add(tx))
        changed = replace(tx, splits=(tx.splits[0], replace(tx.splits[1], memo="changed")))
        self.write(ports, t, lambda uow: uow.transactions.update(changed))
        assert self.read(ports, t, lambda uow: uow.transactions.get(tx.id)) == changed


def _as_app(conn: psycopg.Connection[Any], tenant: uuid.UUID, **settings: str) -> None:
    """For the rest of ``conn``'s transaction: the application's role (row-level security on),
    ``tenant``'s setting, and the planner ``settings`` given (``SET LOCAL name = value``)."""
    conn.execute("SET LOCAL ROLE valorize_app")
    for name, value in settings.items():
        conn.execute(
            psycopg.sql.SQL("SET LOCAL {} = {}").format(psycopg.sql.Identifier(name), psycopg.sql.Literal(value))
        )
    conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))


class TestIndexesEveryWritePays:
    """Every index on ``transactions`` costs each new row; the ones a query cannot use are gone."""

    @pytest.mark.parametrize("clause", ["t.tags && %s::text[]", "t.tags @> %s::text[]"])
    def test_the_application_cannot_use_a_gin_index_on_tags(self, database_url: str, clause: str) -> None:
        # Why 0035 dropped transactions_tags: as the application's role (row-level security on),
        # a tag filter never reads such an index, even when it is the only way left to it (a
        # superuser's, without the tenant's own index to go through, does).
        with psycopg.connect(database_url) as conn:
            tenant = uuid.uuid4()
            conn.execute("CREATE INDEX probe_tags ON transactions USING gin (tags)")
            _as_app(conn, tenant, enable_seqscan="off")
            query = "EXPLAIN SELECT t.id FROM transactions t WHERE " + clause  # the policy adds the tenant
            plan = "\n".join(row[0] for row in conn.execute(query, (["rare"],)).fetchall())
            conn.rollback()
        assert "probe_tags" not in plan, plan
        assert "Filter: (t.tags" in plan or "Filter: (tags" in plan, plan

    @pytest.mark.parametrize(
        "query",
        [
            "SELECT count(DISTINCT transaction_id) FROM splits WHERE tenant_id = $1 AND category_id = $2",
            "SELECT 1 FROM transactions t WHERE t.tenant_id = $1 AND EXISTS (SELECT 1 FROM splits s"
            " WHERE s.tenant_id = t.tenant_id AND s.transaction_id = t.id AND s.category_id = ANY(ARRAY[$2]))",
            "UPDATE splits SET category_id = NULL WHERE tenant_id = $1 AND category_id = $2",
            "SELECT 1 FROM ONLY splits x WHERE $1 = tenant_id AND $2 = category_id FOR KEY SHARE OF x",
        ],
    )
    def test_lookups_by_category_still_read_its_partial_index(self, database_url: str, query: str) -> None:
        # splits_category leaves out uncategorized splits (0035); every lookup by category names one,
        # also in the generic plan a prepared statement runs.
        with psycopg.connect(database_url) as conn:
            tenant = uuid.uuid4()
            _as_app(conn, tenant, enable_seqscan="off", plan_cache_mode="force_generic_plan")
            conn.execute("PREPARE probe (uuid, uuid) AS " + query)
            explain = psycopg.sql.SQL("EXPLAIN EXECUTE probe({}, {})")
            rows = conn.execute(explain.format(str(tenant), str(uuid.uuid4()))).fetchall()
            conn.rollback()
        plan = "\n".join(row[0] for row in rows)
        assert "splits_category" in plan, plan

    def test_no_gin_index_is_left_on_transactions(self, database_url: str) -> None:
        with psycopg.connect(database_url) as conn:
            found = conn.execute(
                "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'transactions'::regclass AND a.amname = 'gin'"
            ).fetchall()
        assert found == []


class TestPoolRecovers(PortsContract):
    def test_dropped_connections_are_replaced(self, pg_backend: PostgresBackend, database_url: str) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        with psycopg.connect(database_url, autocommit=True) as admin:
            killed = admin.execute(
                # waits (up to 5 s) until each backend is gone, as after a server restart
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()
        assert killed is not None
        assert killed[0] >= 1
        acc = self.account(t)
        # Replaced without a restart: while the pool reconnects a unit may be refused as
        # Unavailable (a 503 within the bounded pool wait); it succeeds within seconds.
        deadline = time.monotonic() + 15
        while True:
            try:
                self.write(ports, t, lambda uow: uow.accounts.add(acc))
                break
            except Unavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)) == acc

    def test_the_check_sends_nothing_to_a_live_connection_and_catches_a_terminated_one(self, database_url: str) -> None:
        async def scenario() -> tuple[str, bool]:
            conn = await psycopg.AsyncConnection.connect(database_url)
            try:
                await conn.execute("SELECT 'the last statement sent'")
                await conn.rollback()
                for _ in range(20):
                    await check_idle_connection(conn)
                with psycopg.connect(database_url, autocommit=True) as admin:
                    pid = conn.info.backend_pid
                    row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
                    admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
                assert row is not None
                try:
                    await check_idle_connection(conn)
                except psycopg.OperationalError:
                    return row[0], True
                return row[0], False
            finally:
                await conn.close()

        last_statement, caught = run(scenario())
        assert last_statement == "ROLLBACK"  # not the check's empty query: no round trip
        assert caught


class TestMigrations:
    def test_concurrent_runners_apply_once_and_history_is_recorded(self, database_url: str) -> None:
        async def together() -> list[list[Migration]]:
            return list(await asyncio.gather(*(migrate(database_url) for _ in range(3))))

        results = run(together())
        assert all(r == [] for r in results)  # the session fixture already migrated
        with psycopg.connect(database_url) as conn:
            rows = conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version").fetchall()
        assert [(v, n, c) for v, n, c in rows] == [(m.version, m.name, m.checksum) for m in available_migrations()]

    def test_a_changed_migration_is_an_error(self, database_url: str) -> None:
        first = available_migrations()[0]
        with pytest.raises(MigrationError):
            run(migrate(database_url, [Migration(first.version, first.name, first.sql + "\n-- edited")]))

    def test_a_new_migration_runs_once_and_a_failing_one_leaves_nothing(self, database_url: str) -> None:
        version = 9000 + random.randrange(900)
        table = f"probe_{version}"
        good = Migration(version, "probe", f"CREATE TABLE {table} (id int)")
        assert run(migrate(database_url, [*available_migrations(), good])) == [good]
        assert run(migrate(database_url, [*available_migrations(), good])) == []
        bad = Migration(version + 1, "broken", f"CREATE TABLE {table}_2 (id int); SELECT 1/0;")
        with pytest.raises(psycopg.errors.DivisionByZero):
            run(migrate(database_url, [*available_migrations(), good, bad]))
        with psycopg.connect(database_url, autocommit=True) as conn:
            assert conn.execute("SELECT to_regclass(%s)", (f"{table}_2",)).fetchone() == (None,)
            assert conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version + 1,)).fetchone() is None
            conn.execute(f"DROP TABLE {table}")
            conn.execute("DELETE FROM schema_migrations WHERE version = %s", (version,))


class TestHnswPath(VectorIndexContract):
    """The vector contract again, with the approximate index forced for every tenant."""

    @pytest.fixture
    def ports(self, pg_backend: PostgresBackend) -> Ports:
        forced = replace(pg_backend.ports.uow.vectors, exact_limit=0)  # type: ignore[attr-defined]
        return replace(pg_backend.ports, uow=PostgresUnitOfWorkFactory(pg_backend.pool, forced))

    @pytest.fixture
    def outbox(self, pg_backend: PostgresBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
        return pg_outbox(pg_backend)


class TestConnectionHygiene(PortsContract):
    def test_a_connection_returned_in_transaction_mode_still_serves_tenant_units(
        self, pg_backend: PostgresBackend
    ) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        acc = self.account(t)

        async def misuse_every_connection() -> None:
            leases = [pg_backend.pool.connection() for _ in range(pg_backend.pool.max_size)]
            conns = [await lease.__aenter__() for lease in leases]
            for conn in conns:
                await conn.set_autocommit(False)
            for lease in leases:
                await lease.__aexit__(None, None, None)

        run(misuse_every_connection())
        self.write(ports, t, lambda uow: uow.accounts.add(acc))
        for _ in range(pg_backend.pool.max_size + 1):
            assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)) == acc
        assert self.read(ports, self.new_tenant(ports), lambda uow: uow.accounts.get(acc.id)) is None

    def test_a_unit_is_one_transaction_with_its_tenant_set(self, pg_backend: PostgresBackend) -> None:
        t = self.new_tenant(pg_backend.ports)

        probe = "SELECT current_setting('valorize.tenant_id') AS tenant, txid_current() AS tx"

        async def inside() -> list[dict[str, object]]:
            async with pg_backend.ports.uow(t) as uow:
                return [*await uow.session.fetch(probe), *await uow.session.fetch(probe)]

        first, second = run(inside())
        assert first["tenant"] == second["tenant"] == str(t)
        assert first["tx"] == second["tx"]

    def test_a_session_scope_is_a_word(self) -> None:
        with pytest.raises(ValueError, match="scope"):
            Session(None, None, scope="x', true); SELECT 1; --")  # type: ignore[arg-type]


class TestSearchSettingsDoNotLeak(PortsContract):
    def test_a_neighbour_search_leaves_the_units_settings_alone(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        vectors = pg_backend.ports.uow.vectors  # type: ignore[attr-defined]
        forced = replace(vectors, exact_limit=0)

        async def go() -> tuple[str, str]:
            async with PostgresUnitOfWorkFactory(pg_backend.pool, forced)(t) as uow:
                await uow.examples.upsert(self.new_id(), [1.0] + [0.0] * 255, self.new_id(), "x")
                assert len(await uow.examples.nearest([1.0] + [0.0] * 255, 3)) == 1
                row = await uow.session.fetch_one(
                    "SELECT current_setting('enable_sort') AS s, current_setting('valorize.tenant_id') AS t"
                )
                assert row is not None
                return row["s"], row["t"]

        assert run(go()) == ("on", str(t))


class TestUnavailable:
    def test_a_connection_lost_mid_unit_is_unavailable_and_the_pool_replaces_it(self, database_url: str) -> None:
        async def scenario() -> None:
            pool = await open_pool(database_url, max_size=1, wait=1.0)
            try:
                async with pool.connection() as conn:
                    session = Session(conn, uuid.uuid4())
                    await session.fetch("SELECT 1")  # inside the unit's transaction now
                    with psycopg.connect(database_url, autocommit=True) as admin:
                        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (conn.info.backend_pid,))
                    with pytest.raises(Unavailable):
                        await session.fetch("SELECT 2")
                async with pool.connection() as conn:  # the next unit gets a live connection
                    assert await (await conn.execute("SELECT 3")).fetchone() == (3,)
            finally:
                await pool.close()

        run(scenario())

    def test_a_saturated_pool_is_unavailable_within_its_wait(self, database_url: str) -> None:
        async def scenario() -> float:
            pool = await open_pool(database_url, max_size=1, wait=0.3)
            try:
                async with pool.connection():
                    started = asyncio.get_running_loop().time()
                    with pytest.raises(Unavailable):
                        async with pool.connection():
                            pass
                    return asyncio.get_running_loop().time() - started
            finally:
                await pool.close()

        assert run(scenario()) < 1.0

    def test_collisions_are_not_unavailability(self) -> None:
        # psycopg makes serialization failures and deadlocks operational errors too: they stay Contention.
        assert unavailable(psycopg.errors.SerializationFailure()) is None
        assert unavailable(psycopg.errors.DeadlockDetected()) is None
        assert isinstance(unavailable(psycopg.errors.AdminShutdown()), Unavailable)


class TestWordStatistics(PortsContract):
    def test_concurrent_units_teaching_the_same_words_lose_no_count(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        food = self.category(t, "Food")
        self.add_all(ports, t, food)
        lines = [["padaria", "real", "sao", "paulo"], ["paulo", "sao", "real", "padaria"]] * 6

        async def teach(line: list[str]) -> None:
            async with ports.uow(t) as uow:
                await uow.payees.learn_words(line, food.id, 1.0)
                await asyncio.sleep(0.01)  # hold the row locks while the others arrive
                await uow.commit()

        async def all_at_once() -> None:
            await asyncio.gather(*(teach(line) for line in lines))

        run(all_at_once())  # the words are written in one order: no deadlock between opposite lines
        counts = self.read(ports, t, lambda uow: uow.payees.word_counts(["padaria", "real", "sao", "paulo"]))
        assert counts == {w: {food.id: 12.0} for w in ("padaria", "real", "sao", "paulo")}

    def test_concurrent_units_unlearning_the_same_words_stay_exact(self, pg_backend: PostgresBackend) -> None:
        """Corrections taking back the same words at once: every count ends exact, those reaching
        zero are forgotten, and none goes through zero (the check constraint refused the second
        of two units that had both read 1.0 before either committed)."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        food = self.category(t, "Food")
        self.add_all(ports, t, food)
        words = ["padaria", "real", "sao", "paulo"]

        async def teach() -> None:
            async with ports.uow(t) as uow:
                await uow.payees.learn_words(words, food.id, 4.0)
                await uow.payees.learn_words(["padaria"], food.id, 2.0)
                await uow.commit()

        async def take_back(line: list[str]) -> None:
            async with ports.uow(t) as uow:
                await uow.payees.learn_words(line, food.id, -1.0)
                await uow.payees.word_counts(line)  # the deferred statements go now, under the locks
                await asyncio.sleep(0.01)  # hold the row locks while the others arrive
                await uow.commit()

        async def all_at_once() -> None:
            await teach()
            await asyncio.gather(*(take_back(line) for line in [words, words[::-1]] * 2))

        run(all_at_once())
        counts = self.read(ports, t, lambda uow: uow.payees.word_counts(words))
        assert counts == {"padaria": {food.id: 2.0}}

    def test_units_taking_back_and_teaching_overlapping_words_at_once_never_deadlock(
        self, pg_backend: PostgresBackend
    ) -> None:
        """Units taking back, and teaching, overlapping sets of words given in any order, all at
        once: each locks its rows in word order (the unlearning through its per-word probes, the
        learning through its sorted upsert), so none waits for another in a cycle, and every
        count ends exact."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        food = self.category(t, "Food")
        self.add_all(ports, t, food)
        words = [f"w{i}" for i in range(300)]
        rng = random.Random(11)
        shuffled = [rng.sample(words, len(words)) for _ in range(6)]

        async def teach(line: list[str], weight: float) -> None:
            async with ports.uow(t) as uow:
                await uow.payees.learn_words(line, food.id, weight)
                await uow.payees.word_counts(line[:1])  # the deferred statement goes now, under the locks
                await asyncio.sleep(0.02)  # hold the row locks while the others arrive
                await uow.commit()

        async def all_at_once() -> None:
            await teach(words, 4.0)
            await asyncio.gather(*(teach(line, -1.0 if i % 2 else 1.0) for i, line in enumerate(shuffled)))

        run(all_at_once())  # a deadlock would raise here
        counts = self.read(ports, t, lambda uow: uow.payees.word_counts(words))
        assert counts == {w: {food.id: 4.0} for w in words}


class TestWordLookupsWithoutStatistics(PortsContract):
    def test_a_word_lookup_never_filters_by_the_list(self, pg_backend: PostgresBackend, database_url: str) -> None:
        """Before payee_words' first ANALYZE (a tenant's first lessons, then suggestions at once)
        the generic plan of ``word = ANY(list)`` was a filter comparing every word of the tenant
        with the whole list: words x list, 56 ms for one batch of suggestions. The statement
        ``word_counts`` sends must join the list, whatever the statistics say."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        food, fuel = self.category(t, "Food"), self.category(t, "Fuel")
        self.add_all(ports, t, food, fuel)
        learned = [f"w{i}" for i in range(3000)]

        async def teach() -> None:
            async with ports.uow(t) as uow:
                await uow.payees.learn_words(learned, food.id, 1.0)
                await uow.payees.learn_words(learned[::3], fuel.id, 1.0)
                await uow.commit()

        run(teach())
        sent: list[str] = []

        async def capture() -> None:
            async with ports.uow.reading(t) as uow:
                session = uow.session  # type: ignore[attr-defined]
                fetch = session.fetch

                async def recording(query: str, params: object = None) -> object:
                    sent.append(query)
                    return await fetch(query, params)

                session.fetch = recording
                try:
                    await uow.payees.word_counts(["padaria", "real"])
                finally:
                    del session.fetch

        run(capture())
        [query] = [q for q in sent if "payee_words" in q]
        numbered = iter(range(1, 10))
        prepared = re.sub("%s", lambda _: f"${next(numbered)}", query)
        with psycopg.connect(database_url) as conn:
            # As on a table never analyzed: no column statistics, an unknown row count.
            conn.execute("DELETE FROM pg_statistic WHERE starelid = 'payee_words'::regclass")
            conn.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = 'payee_words'::regclass")
            _as_app(conn, t, plan_cache_mode="force_generic_plan")
            conn.execute("PREPARE probe AS " + prepared)  # type: ignore[operator]
            words = psycopg.sql.Literal(learned[::2])
            args = (words, psycopg.sql.Literal(str(t))) if query.index("tenant_id") > query.index("%s") else None
            args = args or (psycopg.sql.Literal(str(t)), words)
            plan = "\n".join(r[0] for r in conn.execute(psycopg.sql.SQL("EXPLAIN EXECUTE probe({}, {})").format(*args)))
            conn.rollback()
        assert not [line for line in plan.splitlines() if "Filter" in line and "ANY" in line], plan


def _rows_read(node: dict[str, Any], table: str) -> tuple[float, set[str]]:
    """The rows ``node``'s scans of ``table`` read — kept and filtered out, over all their loops
    — and the kinds of those scans (an ``EXPLAIN (ANALYZE, FORMAT JSON)`` plan)."""
    read, kinds = 0.0, set()
    if node.get("Relation Name") == table and "Scan" in node["Node Type"]:
        removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        kept = node["Actual Rows"] + removed
        read, kinds = kept * node["Actual Loops"], {node["Node Type"]}
    for child in node.get("Plans", []):
        more, other = _rows_read(child, table)
        read, kinds = read + more, kinds | other
    return read, kinds


class TestUnlearningReadsItsWordsOnly(PortsContract):
    @pytest.mark.parametrize("statistics", ["never analyzed", "analyzed"])
    @pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
    def test_taking_words_back_probes_each_words_row(
        self, pg_backend: PostgresBackend, database_url: str, statistics: str, plan_cache_mode: str
    ) -> None:
        """A correction takes its line's words back (``learn_words`` with a negative weight): the
        statement reads each word's row (its lock, then its update or delete) and nothing else,
        before the table's first ANALYZE and after, in a custom plan and in the generic plan of a
        prepared statement. ``word = ANY(list)`` filtered the category's every row by the list
        (never analyzed), or read the whole table into a hash join (analyzed, a batch's words)."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        food, fuel = self.category(t, "Food"), self.category(t, "Fuel")
        self.add_all(ports, t, food, fuel)
        learned = [f"w{i}" for i in range(3000)]
        taken_back = learned[::5]  # half of them reach zero and are forgotten, half are lowered

        async def teach() -> None:
            async with ports.uow(t) as uow:
                await uow.payees.learn_words(learned, food.id, 1.0)
                await uow.payees.learn_words(learned[::2], food.id, 1.0)
                await uow.payees.learn_words(learned[::3], fuel.id, 1.0)
                await uow.commit()

        run(teach())
        sent: list[tuple[str, Any]] = []

        async def capture() -> None:
            async with ports.uow(t) as uow:
                session = uow.session  # type: ignore[attr-defined]
                defer = session.defer

                def recording(query: str, rows: list[Any], **options: bool) -> None:
                    sent.extend((query, row) for row in rows)
                    defer(query, rows, **options)

                session.defer = recording
                try:
                    await uow.payees.learn_words(taken_back, food.id, -1.0)
                finally:
                    del session.defer
                await uow.rollback()

        run(capture())
        [(query, params)] = [(q, p) for q, p in sent if "payee_words" in q]
        numbered = iter(range(1, 20))
        prepared = re.sub("%s", lambda _: f"${next(numbered)}", query)
        literals = [psycopg.sql.Literal(str(p) if isinstance(p, uuid.UUID) else p) for p in params]
        with psycopg.connect(database_url) as conn:
            if statistics == "analyzed":
                conn.execute("ANALYZE payee_words")
            else:  # as on a table never analyzed: no column statistics, an unknown row count
                conn.execute("DELETE FROM pg_statistic WHERE starelid = 'payee_words'::regclass")
                conn.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = 'payee_words'::regclass")
            _as_app(conn, t, plan_cache_mode=plan_cache_mode)
            conn.execute("PREPARE probe AS " + prepared)  # type: ignore[operator]
            explain = psycopg.sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE probe({})")
            row = conn.execute(explain.format(psycopg.sql.SQL(", ").join(literals))).fetchone()
            conn.rollback()
        assert row is not None
        read, kinds = _rows_read(row[0][0]["Plan"], "payee_words")
        assert kinds == {"Index Scan"}, row[0]
        assert read == 2 * len(taken_back), row[0]  # each word's row: locked, then merged
