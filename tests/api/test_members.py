"""Tokens and members over HTTP, on the memory and the PostgreSQL containers: only owners manage
tokens and members, no token mints or revokes above itself, a removed member is locked out at
once, and the last owner stays."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from http_support import Api
from litestar.testing import TestClient


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _invite(api: Api, role: str, email: str | None = None) -> dict[str, Any]:
    r = api.post("/api/members", {"email": email or f"{uuid.uuid4().hex}@example.com", "name": "Bo", "role": role})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _token_ids(api: Api) -> set[str]:
    return {t["id"] for t in api.get("/api/tokens").json()}


def test_a_viewer_token_cannot_mint_an_owner_token(api: Api) -> None:
    viewer = api.post("/api/tokens", {"name": "readonly", "role": "viewer"}).json()["token"]
    before = _token_ids(api)
    for role in ("owner", "member", None):
        body = {"name": "x"} if role is None else {"name": "x", "role": role}
        r = api.client.post("/api/tokens", json=body, headers=_bearer(viewer))
        assert r.status_code == 403, r.text
    assert _token_ids(api) == before


def test_only_owner_tokens_list_and_revoke_tokens(api: Api) -> None:
    owners_id = api.token_id
    for role in ("viewer", "member"):
        other = api.post("/api/tokens", {"name": role, "role": role}).json()["token"]
        assert api.client.get("/api/tokens", headers=_bearer(other)).status_code == 403
        r = api.client.post(f"/api/tokens/{owners_id}/revoke", headers=_bearer(other))
        assert r.status_code == 403, r.text
    assert api.get("/api/accounts").status_code == 200  # the owner is not locked out
    assert all(t["revoked_at"] is None for t in api.get("/api/tokens").json())


def test_a_token_made_without_a_role_has_its_makers_role(api: Api) -> None:
    made = api.post("/api/tokens", {"name": "laptop"})
    assert made.status_code == 201
    assert made.json()["details"]["role"] == "owner"
    bo = _invite(api, "viewer")
    for_bo = api.post("/api/tokens", {"name": "phone", "user_id": bo["member"]["user_id"]})
    assert for_bo.status_code == 201, for_bo.text
    assert for_bo.json()["details"]["role"] == "viewer"  # never more than the member's own role
    assert (
        api.post("/api/tokens", {"name": "x", "role": "member", "user_id": bo["member"]["user_id"]}).status_code == 403
    )
    assert api.post("/api/tokens", {"name": "x", "user_id": str(uuid.uuid4())}).status_code == 404


def test_an_idempotency_key_replays_to_its_own_token_only(api: Api) -> None:
    viewer = api.post("/api/tokens", {"name": "readonly", "role": "viewer"}).json()["token"]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.post("/api/tokens", {"name": "ci", "role": "owner"}, headers=key)
    assert first.status_code == 201
    replay = api.client.post("/api/tokens", json={"name": "ci", "role": "owner"}, headers={**_bearer(viewer), **key})
    assert replay.status_code == 422, replay.text
    assert first.json()["token"] not in replay.text


def test_an_owner_invites_changes_and_removes_a_member(api: Api) -> None:
    bo = _invite(api, "member")
    member_headers = _bearer(bo["token"])
    assert bo["member"]["role"] == "member"
    assert bo["token_details"]["role"] == "member"
    assert {m["role"] for m in api.get("/api/members").json()} == {"owner", "member"}
    account = api.account()
    tx = {"account_id": account, "booked_on": "2026-11-03", "description": "X", "amount": "-1.00"}
    assert api.client.post("/api/transactions", json=tx, headers=member_headers).status_code == 201
    assert api.client.get("/api/members", headers=member_headers).status_code == 403
    # demoted: their token reads, and stops writing at once
    user = bo["member"]["user_id"]
    changed = api.patch(f"/api/members/{user}", {"role": "viewer"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "viewer"
    assert api.client.get("/api/accounts", headers=member_headers).status_code == 200
    assert api.client.post("/api/transactions", json=tx, headers=member_headers).status_code == 403
    # removed: every token of theirs is revoked, and refused at once
    assert api.delete(f"/api/members/{user}").status_code == 204
    assert api.client.get("/api/accounts", headers=member_headers).status_code == 401
    theirs = [t for t in api.get("/api/tokens").json() if t["user_id"] == user]
    assert [t["id"] for t in theirs] == [bo["token_details"]["id"]]
    assert theirs[0]["revoked_at"] is not None
    assert user not in {m["user_id"] for m in api.get("/api/members").json()}
    assert api.delete(f"/api/members/{user}").status_code == 404
    assert api.patch(f"/api/members/{user}", {"role": "owner"}).status_code == 404


def test_the_last_owner_stays(api: Api) -> None:
    me = next(m for m in api.get("/api/members").json() if m["role"] == "owner")["user_id"]
    r = api.patch(f"/api/members/{me}", {"role": "member"})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert api.delete(f"/api/members/{me}").status_code == 409
    assert api.get("/api/tokens").status_code == 200  # still an owner
    second = _invite(api, "owner")
    assert api.patch(f"/api/members/{me}", {"role": "member"}).status_code == 200
    # the demoted first owner's token is a member's now: the second owner runs the tenant
    assert api.get("/api/tokens").status_code == 403
    assert api.client.get("/api/tokens", headers=_bearer(second["token"])).status_code == 200


def test_invitations_that_conflict(api: Api, client: TestClient[Any]) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    _invite(api, "viewer", email)
    again = api.post("/api/members", {"email": email.upper(), "name": "Bo", "role": "viewer"})
    assert again.status_code == 409
    elsewhere = Api(client)  # another tenant's owner's e-mail is theirs
    theirs = elsewhere.get("/api/members").json()[0]["email"]
    assert api.post("/api/members", {"email": theirs, "name": "X", "role": "viewer"}).status_code == 409
    assert (
        elsewhere.patch(f"/api/members/{api.get('/api/members').json()[0]['user_id']}", {"role": "viewer"}).status_code
        == 404
    )
    assert api.post("/api/members", {"email": "nope", "name": "X", "role": "viewer"}).status_code == 422
    assert api.post("/api/members", {"email": email, "name": "X", "role": "boss"}).status_code == 422


def test_two_owners_demoting_each_other_at_once_leave_one_owner(api: Api, client: TestClient[Any]) -> None:
    from valorize_core.model.errors import Conflict
    from valorize_core.model.identity import Role
    from valorize_core.use_cases.actions.manage_members import MemberRoleChange

    me = next(m for m in api.get("/api/members").json() if m["role"] == "owner")["user_id"]
    other = _invite(api, "owner")["member"]["user_id"]
    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)

    async def both() -> list[Any]:
        changes = [MemberRoleChange(tenant, uuid.UUID(u), "member", Role.OWNER) for u in (me, other)]
        return await asyncio.gather(*(vz.change_member_role(c) for c in changes), return_exceptions=True)

    async def owners() -> list[str]:
        async with vz.ports.uow(tenant) as uow:
            return [str(m.user.id) for m in await uow.identity.list_members() if m.role is Role.OWNER]

    for _ in range(5):
        outcomes = client.blocking_portal.call(both)
        assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
        (survivor,) = client.blocking_portal.call(owners)
        demoted = me if survivor == other else other  # an owner again, for the next round
        client.blocking_portal.call(
            vz.change_member_role, MemberRoleChange(tenant, uuid.UUID(demoted), "owner", Role.OWNER)
        )


def test_a_token_made_while_its_member_is_removed_never_outlives_the_membership(
    api: Api, client: TestClient[Any]
) -> None:
    """Creating a token reads the membership held: a removal running at once either comes first
    (the token is refused: 404) or revokes the new token with the others. Before, the token
    could be stored active after the removal had revoked the member's tokens, and it came back
    to life when the person was invited again."""
    from valorize_core.model.identity import Role
    from valorize_core.use_cases.actions.manage_members import MemberRemoval
    from valorize_core.use_cases.actions.manage_tokens import NewToken

    vz = client.app.state.runtime.app
    tenant = uuid.UUID(api.tenant_id)

    async def both(user: uuid.UUID) -> list[Any]:
        return await asyncio.gather(
            vz.remove_member(MemberRemoval(tenant, user, Role.OWNER)),
            vz.create_token(NewToken(tenant, user, "late", None, Role.OWNER)),
            return_exceptions=True,
        )

    async def active_tokens(user: uuid.UUID) -> list[Any]:
        async with vz.ports.uow(tenant) as uow:
            return [t for t in await uow.identity.list_tokens(user) if t.active]

    for _ in range(8):
        invited = _invite(api, "member")["member"]
        user = uuid.UUID(invited["user_id"])
        _, issued = client.blocking_portal.call(both, user)
        assert client.blocking_portal.call(active_tokens, user) == []
        if not isinstance(issued, Exception):  # the removal came second: invited again, still locked out
            _invite(api, "member", invited["email"])
            assert api.client.get("/api/accounts", headers=_bearer(issued.secret)).status_code == 401


def test_no_token_secret_is_kept_for_an_idempotent_replay(api: Api, client: TestClient[Any]) -> None:
    """Token secrets are stored only as hashes: the idempotency store kept the whole answer of
    a POST that carried an ``Idempotency-Key`` for 24 hours, the new token's secret included
    (``/api/signup``, ``/api/tokens``, ``/api/members``). Now such an answer is not kept: the
    key still holds (no second token), and a replay is a 409 that says why."""
    from valorize_entrypoints.api.idempotency import request_digest

    runtime = client.app.state.runtime
    email = f"{uuid.uuid4().hex}@example.com"
    calls = [
        ("/api/tokens", {"name": "ci"}, api.headers),
        ("/api/members", {"email": email, "name": "Bo", "role": "viewer"}, api.headers),
        ("/api/signup", {"tenant_name": "T", "email": f"x{email}", "name": "T"}, {}),
    ]
    for path, body, headers in calls:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = api.client.post(path, json=body, headers={**headers, **key})
        assert first.status_code == 201, first.text
        secret = first.json()["token"]
        again = api.client.post(path, json=body, headers={**headers, **key})
        assert again.status_code == 409, again.text
        assert secret not in again.text
        tenant = uuid.UUID(api.tenant_id) if headers else uuid.UUID(int=0)
        caller = uuid.UUID(api.token_id) if headers else None
        digest = request_digest(path, b"", caller, again.request.content)
        stored = client.blocking_portal.call(
            runtime.idempotency.claim, tenant, key["Idempotency-Key"], digest, runtime.app.ports.clock.now(),
            *_ttl_and_lock(),
        )  # fmt: skip
        assert secret.encode() not in getattr(stored, "body", b""), path


def _ttl_and_lock() -> tuple[Any, Any]:
    from valorize_entrypoints.api.idempotency import LOCK, TTL

    return TTL, LOCK
