from __future__ import annotations

import pytest

from valorize_entrypoints.settings import Settings


def test_cache_lifetimes_come_from_the_environment() -> None:
    settings = Settings.from_env({"VALORIZE_CACHE_TTL": "120", "VALORIZE_CACHE_HOLD": "3"})
    assert (settings.cache_ttl, settings.cache_hold) == (120, 3)
    assert (Settings().cache_ttl, Settings().cache_hold) == (900, 10)


@pytest.mark.parametrize("name", ["VALORIZE_CACHE_TTL", "VALORIZE_CACHE_HOLD"])
def test_a_cache_lifetime_under_a_second_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Settings.from_env({name: "0"})


def test_an_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown setting VALORIZE_CACHE_HOLDS"):
        Settings.from_env({"VALORIZE_CACHE_HOLDS": "3"})


def test_the_pool_timeout_is_seconds_with_decimals() -> None:
    assert Settings().db_pool_timeout == 2.0
    assert Settings.from_env({"VALORIZE_DB_POOL_TIMEOUT": "0.5"}).db_pool_timeout == 0.5


def test_pusher_webhooks_come_from_the_environment_and_bad_ones_are_refused() -> None:
    settings = Settings.from_env({"VALORIZE_PUSHER_WEBHOOK_URLS": "https://a.example/hooks, http://b.example/p",
                                  "VALORIZE_PUSHER_WEBHOOK_EVENTS": "channel_occupied,member_added",
                                  "VALORIZE_PUSHER_WEBHOOK_WINDOW": "0.5"})  # fmt: skip
    assert settings.pusher_webhooks() == (("https://a.example/hooks", "http://b.example/p"),
                                          frozenset({"channel_occupied", "member_added"}))  # fmt: skip
    assert settings.pusher_webhook_window == 0.5
    for name, value, why in (
        ("VALORIZE_PUSHER_WEBHOOK_EVENTS", "channel_created", "unknown Pusher webhook events"),
        ("VALORIZE_PUSHER_WEBHOOK_URLS", "ftp://a.example/x", "absolute https"),
        ("VALORIZE_PUSHER_WEBHOOK_WINDOW", "0", "window"),
    ):
        with pytest.raises(ValueError, match=why):
            Settings.from_env({name: value})
