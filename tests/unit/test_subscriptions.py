"""Subscriptions found in the history: detection, confirm, dismiss, price rise and stop."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from world import World, run

from valorize_core import NewTransaction
from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.events import SubscriptionPriceRose, SubscriptionStopped
from valorize_core.model.notifications import notification_for
from valorize_core.model.subscriptions import Cadence
from valorize_core.runtime.relay import follow_up_tasks
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner
from valorize_core.use_cases.actions.decide_subscription import SubscriptionDecision
from valorize_core.use_cases.actions.watch_subscriptions import SubscriptionWatch
from valorize_core.use_cases.queries.list_schedules import ScheduleQuery
from valorize_core.use_cases.queries.subscriptions import FoundSubscriptionsQuery

# The world's clock: 2026-01-01 12:00 UTC.


def charge(w: World, day: date, text: str, amount: str) -> None:
    run(w.vz.create_transaction(NewTransaction(w.tenant, w.checking, day, text, amount)))


def seed_history(w: World) -> None:
    for month in range(6, 13):  # Netflix on the 15th, Spotify on the last day, Jun..Dec 2025
        charge(w, date(2025, month, 15), "NETFLIX.COM", "-39.90")
        last = (date(2025, month + 1, 1) if month < 12 else date(2026, 1, 1)) - timedelta(days=1)
        charge(w, last, "SPOTIFY AB", "-21.90")
    rng = random.Random(7)
    for _ in range(40):  # groceries: frequent, irregular amounts
        charge(
            w, date(2025, 7, 1) + timedelta(days=rng.randint(0, 180)), "MERCADO SAO JOAO", f"-{rng.randint(20, 400)}.00"
        )
    for month in (7, 8, 9, 10, 11, 12):  # electricity: monthly, amounts all over
        charge(w, date(2025, month, 10), "ENEL ENERGIA", f"-{rng.choice([90, 140, 210, 160])}.00")
    for month in (3, 4, 5, 6):  # cancelled in June
        charge(w, date(2025, month, 3), "HBO MAX", "-34.90")


def test_regular_stable_payees_are_found_with_their_evidence(world: World) -> None:
    seed_history(world)
    found = run(world.vz.find_subscriptions(FoundSubscriptionsQuery(world.tenant)))
    by = {f.payee_key: f for f in found}
    assert set(by) == {"netflix com", "spotify ab"}
    netflix = by["netflix com"]
    assert netflix.cadence is Cadence.MONTHLY
    assert netflix.amount.minor == -3990
    assert [c.on for c in netflix.evidence] == [date(2025, m, 15) for m in range(6, 13)]
    assert netflix.confidence == Decimal("1.00")
    assert netflix.next_expected == date(2026, 1, 14)


def test_confirm_makes_a_schedule_dismiss_hides_and_both_are_decided_once(world: World) -> None:
    seed_history(world)
    found = {f.payee_key: f for f in run(world.vz.find_subscriptions(FoundSubscriptionsQuery(world.tenant)))}
    spotify, netflix = found["spotify ab"], found["netflix com"]
    tracked, schedule = run(world.vz.confirm_subscription(SubscriptionDecision(world.tenant, spotify.id)))
    assert schedule.rule == "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"
    assert schedule.next_due == date(2026, 1, 31)
    assert schedule.amount.minor == -2190
    assert schedule.tolerance is not None
    assert schedule.tolerance.minor == 109
    assert tracked.schedule_id == schedule.id
    run(world.vz.dismiss_subscription(SubscriptionDecision(world.tenant, netflix.id)))
    assert run(world.vz.find_subscriptions(FoundSubscriptionsQuery(world.tenant))) == []
    for again in (world.vz.confirm_subscription, world.vz.dismiss_subscription):
        world.fails_cleanly(again(SubscriptionDecision(world.tenant, netflix.id)), Conflict)
    world.fails_cleanly(world.vz.dismiss_subscription(SubscriptionDecision(world.tenant, world.tenant)), NotFound)
    decided = run(world.vz.list_tracked_subscriptions(FoundSubscriptionsQuery(world.tenant)))
    assert [(t.payee_key, t.status.value) for t in decided] == [
        ("netflix com", "dismissed"),
        ("spotify ab", "confirmed"),
    ]


def test_a_price_rise_and_a_stop_are_announced_once(world: World) -> None:
    seed_history(world)
    found = {f.payee_key: f for f in run(world.vz.find_subscriptions(FoundSubscriptionsQuery(world.tenant)))}
    _, schedule = run(world.vz.confirm_subscription(SubscriptionDecision(world.tenant, found["netflix com"].id)))
    charge(world, date(2026, 1, 15), "NETFLIX.COM", "-44.90")
    world.clock.set(datetime(2026, 1, 16, 8, tzinfo=UTC))
    events = run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 1, 16))))
    assert [type(e) for e in events] == [SubscriptionPriceRose]
    rose = events[0]
    assert (rose.old_minor, rose.new_minor, rose.charged_on) == (-3990, -4490, "2026-01-15")
    spec = notification_for(rose)
    assert spec is not None
    assert "costs more" in spec[1]
    assert run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 1, 17)))) == []
    detail = run(world.vz.get_schedule(ScheduleQuery(world.tenant, schedule.id)))
    assert detail.schedule.amount.minor == -4490  # the forecast follows the new price
    # February and March pass without a charge: stopped, once.
    assert run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 2, 20)))) == []
    stopped = run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 3, 1))))
    assert [type(e) for e in stopped] == [SubscriptionStopped]
    assert stopped[0].last_charged == "2026-01-15"
    assert run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 3, 20)))) == []
    outbox = [e.name for e in world.backend.store.outbox]
    assert outbox.count("subscription.price_rose") == 1
    assert outbox.count("subscription.stopped") == 1


def test_the_new_events_are_notified_and_announced_on_the_channel(world: World) -> None:
    seed_history(world)
    found = {f.payee_key: f for f in run(world.vz.find_subscriptions(FoundSubscriptionsQuery(world.tenant)))}
    run(world.vz.confirm_subscription(SubscriptionDecision(world.tenant, found["netflix com"].id)))
    charge(world, date(2026, 1, 15), "NETFLIX.COM", "-44.90")
    events = run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 1, 16))))
    events += run(world.vz.watch_subscriptions(SubscriptionWatch(world.tenant, date(2026, 3, 1))))
    runner = TaskRunner(world.vz)
    for event in events:
        (notify,) = [t for t in follow_up_tasks(event) if t.name == "notify"]
        assert run(runner.run(notify)).outcome is TaskOutcome.DONE
    data = world.backend.store.data(world.tenant)
    titles = sorted(n.title for n in data.notifications.values())
    assert titles == ["Netflix Com costs more", "Netflix Com seems to have stopped"]
    created = [e for e in world.backend.store.outbox if e.name == "notification.created"]
    assert len(created) == 2  # what the realtime channel receives, with the events themselves
