"""The Pusher protocol, sans I/O: sessions take frames and time, and return actions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_adapters.pusher.protocol import (
    AppConfig,
    Broadcast,
    Close,
    Join,
    Leave,
    Member,
    PusherSession,
    Send,
    check_connection,
)
from valorize_adapters.pusher.signatures import (
    InvalidSignature,
    channel_auth,
    sign_request,
    verify_channel_auth,
    verify_request,
)

APP = AppConfig("1", "app-key", "app-secret", client_events=True, activity_timeout=120, rate_per_second=10,
                rate_burst=5)  # fmt: skip
SOCKET = "123.456"


def sent(actions: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(a.text) for a in actions if isinstance(a, Send)]


def session(app: AppConfig = APP) -> PusherSession:
    return PusherSession(app, SOCKET, now=0.0)


def subscribe(s: PusherSession, channel: str, now: float = 1.0, **data: Any) -> list[Any]:
    return s.receive(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, **data}}), now)


def test_connection_established_carries_socket_id_and_timeout() -> None:
    (hello,) = sent(session().opening())
    assert hello["event"] == "pusher:connection_established"
    assert json.loads(hello["data"]) == {"socket_id": SOCKET, "activity_timeout": 120}


@pytest.mark.parametrize(
    ("path", "query", "code"),
    [("/app/app-key", {"protocol": "7"}, None), ("/app/other", {"protocol": "7"}, 4001),
     ("/socket", {"protocol": "7"}, 4005), ("/app/app-key", {}, 4008), ("/app/app-key", {"protocol": "5"}, 4007),
     ("/app/app-key", {"protocol": "x"}, 4007)],
)  # fmt: skip
def test_connections_are_checked(path: str, query: dict[str, str], code: int | None) -> None:
    refused = check_connection(APP, path, query)
    assert (refused.code if refused else None) == code


def test_ping_pong_and_activity() -> None:
    s = session()
    assert sent(s.receive('{"event":"pusher:ping","data":{}}', 1.0))[0]["event"] == "pusher:pong"
    assert s.idle(60.0) == []
    (ping,) = sent(s.idle(121.0))
    assert ping["event"] == "pusher:ping"
    assert s.idle(140.0) == []  # waiting for the pong
    s.receive('{"event":"pusher:pong","data":{}}', 141.0)
    assert s.idle(200.0) == []
    assert sent(s.idle(262.0))[0]["event"] == "pusher:ping"
    (close,) = s.idle(293.0)
    assert close == Close(4201, "Pong reply not received")


def test_public_channels_need_no_auth_and_join_once() -> None:
    s = session()
    assert subscribe(s, "news") == [Join("news")]
    assert subscribe(s, "news") == []  # pending already
    (ok,) = sent(s.joined("news"))
    assert (ok["event"], ok["channel"], ok["data"]) == ("pusher_internal:subscription_succeeded", "news", "{}")
    assert s.deliver("news", "tick", '{"n":1}') == '{"event":"tick","data":"{\\"n\\":1}","channel":"news"}'
    assert s.deliver("other", "tick", "{}") is None
    assert s.receive('{"event":"pusher:unsubscribe","data":{"channel":"news"}}', 2.0) == [Leave("news")]
    assert s.deliver("news", "tick", "{}") is None


_clock = iter(range(1, 10_000))


def s_time() -> float:
    """A later second each call (keeps the rate limiter out of the way)."""
    return float(next(_clock))


def test_private_channels_need_a_valid_signature() -> None:
    s = session()
    good = channel_auth(APP.key, APP.secret, SOCKET, "private-tenant.1")
    wrong = (
        None,
        "nonsense",
        "app-key:" + "0" * 64,
        channel_auth("other-key", APP.secret, SOCKET, "private-tenant.1"),
        channel_auth(APP.key, APP.secret, "999.999", "private-tenant.1"),
        channel_auth(APP.key, APP.secret, SOCKET, "private-tenant.2"),
    )
    for auth in wrong:
        (refusal,) = sent(subscribe(s, "private-tenant.1", now=s_time(), auth=auth))
        assert refusal["event"] == "pusher:subscription_error"
        assert json.loads(refusal["data"])["status"] == 401
    assert subscribe(s, "private-tenant.1", now=s_time(), auth=good) == [Join("private-tenant.1")]


def test_presence_channels_sign_the_member_and_report_members() -> None:
    s = session()
    data = json.dumps({"user_id": "u1", "user_info": {"name": "Ana"}})
    auth = channel_auth(APP.key, APP.secret, SOCKET, "presence-tenant.1", data)
    assert subscribe(s, "presence-tenant.1", auth=auth, channel_data=data) == [
        Join("presence-tenant.1", Member("u1", {"name": "Ana"}))
    ]
    (ok,) = sent(s.joined("presence-tenant.1", {"u1": {"name": "Ana"}, "u2": None}))
    assert json.loads(ok["data"]) == {"presence": {"ids": ["u1", "u2"], "hash": {"u1": {"name": "Ana"}, "u2": None},
                                                   "count": 2}}  # fmt: skip
    tampered = json.dumps({"user_id": "admin"})
    other = session()
    (refused,) = sent(subscribe(other, "presence-tenant.1", auth=auth, channel_data=tampered))
    assert refused["event"] == "pusher:subscription_error"


def test_client_events() -> None:
    s = session()
    private = channel_auth(APP.key, APP.secret, SOCKET, "private-room")
    subscribe(s, "private-room", auth=private)
    s.joined("private-room")
    subscribe(s, "lobby")
    s.joined("lobby")
    typing = s.receive('{"event":"client-typing","channel":"private-room","data":{"on":true}}', 2.0)
    assert typing == [Broadcast("private-room", "client-typing", '{"on": true}')]
    for channel in ("lobby", "private-elsewhere"):
        (err,) = sent(s.receive(json.dumps({"event": "client-x", "channel": channel, "data": {}}), 3.0))
        assert err["data"]["code"] == 4303
    off = PusherSession(AppConfig("1", "app-key", "app-secret"), SOCKET, 0.0)
    (err,) = sent(off.receive('{"event":"client-x","channel":"private-room","data":{}}', 1.0))
    assert err["data"]["code"] == 4303


def test_rate_limit_and_size_limit() -> None:
    s = session()
    s.receive(json.dumps({"event": "pusher:subscribe", "data": {"channel": "private-room",
              "auth": channel_auth("app-key", "app-secret", SOCKET, "private-room")}}), 1.0)  # fmt: skip
    s.joined("private-room")
    event = '{"event":"client-x","channel":"private-room","data":{}}'
    answers = [s.receive(event, 1.0) for _ in range(8)]
    codes = [sent(a)[0]["data"]["code"] for a in answers if sent(a)]
    assert codes == [4301, 4301, 4301]
    assert isinstance(s.receive(event, 2.0)[0], Broadcast)  # refilled
    big = json.dumps({"event": "client-x", "channel": "private-room", "data": "x" * 20_000})
    assert sent(s.receive(big, 10.0))[0]["data"]["code"] == 4302


def test_the_rate_limit_counts_client_events_only() -> None:
    s = session()  # 5 client events in a burst
    pongs = [sent(s.receive('{"event":"pusher:ping","data":{}}', 1.0))[0]["event"] for _ in range(20)]
    assert pongs == ["pusher:pong"] * 20
    joins = [subscribe(s, f"room-{n}") for n in range(20)]
    assert all(isinstance(j[0], Join) for j in joins)


def test_a_subscription_the_flood_guard_refuses_names_its_channel() -> None:
    s = session()  # the guard lets 10 x 5 frames through in a burst
    answers = [subscribe(s, f"room-{n}") for n in range(55)]
    assert all(isinstance(a[0], Join) for a in answers[:50])
    refused = [sent(a)[0] for a in answers[50:]]
    assert [r["channel"] for r in refused] == [f"room-{n}" for n in range(50, 55)]
    assert {r["event"] for r in refused} == {"pusher:subscription_error"}
    assert {json.loads(r["data"])["status"] for r in refused} == {429}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
frames = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.dictionaries(st.sampled_from(["event", "data", "channel"]) | st.text(max_size=10), json_values, max_size=4).map(
        json.dumps
    ),
    st.fixed_dictionaries(
        {"event": st.sampled_from(["pusher:subscribe", "pusher:unsubscribe", "pusher:ping", "client-x"]),
         "data": json_values, "channel": json_values}
    ).map(json.dumps),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(frames)
def test_any_frame_gets_an_answer_or_an_action_never_an_exception(text: Any) -> None:
    s = session(AppConfig("1", "app-key", "app-secret", rate_burst=10_000))
    for action in s.receive(text, 1.0):
        assert isinstance(action, (Send, Join, Leave, Broadcast))


def test_closing_leaves_every_channel() -> None:
    s = session()
    subscribe(s, "a")
    s.joined("a")
    subscribe(s, "b")  # still pending
    assert s.closed() == [Leave("a"), Leave("b")]


def test_request_signatures_round_trip_and_refuse_tampering() -> None:
    body = b'{"name":"x","channels":["a"],"data":"{}"}'
    params = sign_request(APP.key, APP.secret, "POST", "/apps/1/events", {}, body, timestamp=1_000_000)
    verify_request(APP.key, APP.secret, "POST", "/apps/1/events", params, body, now=1_000_100)
    for change in ({"auth_signature": "0" * 64}, {"auth_key": "other"}, {"auth_version": "2.0"},
                   {"auth_timestamp": "999000"}, {"body_md5": "0" * 32}):  # fmt: skip
        with pytest.raises(InvalidSignature):
            verify_request(APP.key, APP.secret, "POST", "/apps/1/events", {**params, **change}, body, now=1_000_100)
    with pytest.raises(InvalidSignature):
        verify_request(APP.key, APP.secret, "POST", "/apps/1/events", params, body + b" ", now=1_000_100)
    with pytest.raises(InvalidSignature):
        verify_channel_auth(APP.key, APP.secret, SOCKET, "private-x", 42)


def _signin(s: PusherSession, user_data: str, auth: str | None = None) -> list[Any]:
    from valorize_adapters.pusher.signatures import user_auth

    signed = auth if auth is not None else user_auth(APP.key, APP.secret, SOCKET, user_data)
    return s.receive(json.dumps({"event": "pusher:signin", "data": {"auth": signed, "user_data": user_data}}), 1.0)


def test_a_signed_in_connection_joins_its_own_server_to_user_channel_only() -> None:
    s = session()
    refused = sent(subscribe(s, "#server-to-user-u1"))
    assert refused[0]["event"] == "pusher:subscription_error"  # not signed in yet
    actions = _signin(s, '{"id":"u1","user_info":{"name":"Ana"}}')
    assert sent(actions)[0]["event"] == "pusher:signin_success"
    assert Join("#server-to-user-u1") in actions
    assert sent(s.joined("#server-to-user-u1"))[0]["event"] == "pusher_internal:subscription_succeeded"
    # pusher-js then subscribes itself: confirmed again; another user's channel is refused
    assert sent(subscribe(s, "#server-to-user-u1"))[0]["event"] == "pusher_internal:subscription_succeeded"
    assert sent(subscribe(s, "#server-to-user-u2"))[0]["event"] == "pusher:subscription_error"
    # signing in as someone else on the same connection closes it
    assert isinstance(_signin(s, '{"id":"u2"}')[-1], Close)


@pytest.mark.parametrize(
    ("user_data", "auth"),
    [('{"id":"u1"}', "app-key:forged"), ('{"name":"no id"}', None), ('{"id":"a b"}', None), ("not json", None)],
)
def test_a_bad_signin_is_4009_and_closes(user_data: str, auth: str | None) -> None:
    actions = _signin(session(), user_data, auth)
    assert sent(actions)[0]["data"]["code"] == 4009
    assert actions[-1] == Close(4009, "Unauthorized")


def test_a_cache_channel_sends_its_last_event_or_a_miss_after_the_subscription() -> None:
    s = session()
    subscribe(s, "cache-rates")
    frames = sent(s.joined("cache-rates", cached=("rate", '{"usd":"5.10"}')))
    assert [f["event"] for f in frames] == ["pusher_internal:subscription_succeeded", "rate"]
    assert frames[1]["data"] == '{"usd":"5.10"}'
    subscribe(s, "cache-empty")
    assert [f["event"] for f in sent(s.joined("cache-empty"))] == [
        "pusher_internal:subscription_succeeded", "pusher:cache_miss"
    ]  # fmt: skip
    subscribe(s, "plain")
    assert len(sent(s.joined("plain"))) == 1  # no cache, no miss


def test_client_events_are_refused_on_encrypted_channels() -> None:
    s = session()
    channel = "private-encrypted-room"
    subscribe(s, channel, auth=channel_auth(APP.key, APP.secret, SOCKET, channel))
    s.joined(channel)
    refused = s.receive(json.dumps({"event": "client-typing", "channel": channel, "data": {}}), 2.0)
    assert sent(refused)[0]["data"]["code"] == 4303


def test_a_signin_with_a_watchlist_asks_the_server_to_watch_those_users() -> None:
    from valorize_adapters.pusher.protocol import SignIn

    actions = _signin(session(), '{"id":"u1","watchlist":["u2","u3","u2","u1"]}')
    assert SignIn("u1", ("u2", "u3")) in actions  # deduplicated, never oneself
    bad = _signin(session(), json.dumps({"id": "u1", "watchlist": ["ok", "not ok"]}))
    assert sent(bad)[0]["data"]["code"] == 4009
    too_many = _signin(session(), json.dumps({"id": "u1", "watchlist": [f"u{i}" for i in range(101)]}))
    assert sent(too_many)[0]["data"]["code"] == 4009
