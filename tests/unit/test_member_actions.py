"""Tokens never exceed the token that made them; members are invited, changed and removed by
owners, and a tenant always keeps an owner (the use cases, on the memory adapters)."""

from __future__ import annotations

from uuid import UUID

import pytest
from world import World, run

from valorize_core.model.errors import Conflict, NotFound, PermissionDenied
from valorize_core.model.identity import Role
from valorize_core.use_cases.actions.manage_members import MemberRemoval, MemberRoleChange, NewMember
from valorize_core.use_cases.actions.manage_tokens import NewToken, TokenRevocation
from valorize_core.use_cases.actions.signup import SignupRequest


def _invite(world: World, role: str, email: str = "bo@example.com") -> tuple[str, UUID]:
    invited = run(world.vz.invite_member(NewMember(world.tenant, email, "Bo", role, Role.OWNER)))
    return invited.secret, invited.member.user.id


def test_a_token_never_creates_a_token_above_its_own_role(world: World) -> None:
    # the user is an owner, but the asking token is a viewer's: its role is the ceiling
    for asked in ("owner", "member"):
        world.fails_cleanly(
            world.vz.create_token(NewToken(world.tenant, world.user, "x", asked, Role.VIEWER)), PermissionDenied
        )
    made = run(world.vz.create_token(NewToken(world.tenant, world.user, "x", "viewer", Role.VIEWER)))
    assert made.token.role is Role.VIEWER


def test_a_token_made_without_a_role_gets_the_asking_tokens_role(world: World) -> None:
    made = run(world.vz.create_token(NewToken(world.tenant, world.user, "x", None, Role.MEMBER)))
    assert made.token.role is Role.MEMBER
    # and never more than the member it is for
    _, bo = _invite(world, "viewer")
    for_bo = run(world.vz.create_token(NewToken(world.tenant, bo, "x", None, Role.OWNER)))
    assert for_bo.token.role is Role.VIEWER
    world.fails_cleanly(
        world.vz.create_token(NewToken(world.tenant, bo, "x", "member", Role.OWNER)),
        PermissionDenied,
    )


def test_nobody_revokes_a_token_above_their_role(world: World) -> None:
    owner_token = run(world.vz.create_token(NewToken(world.tenant, world.user, "laptop", "owner")))
    member_token = run(world.vz.create_token(NewToken(world.tenant, world.user, "ci", "member")))
    # the same user's member token may not revoke their owner token
    world.fails_cleanly(
        world.vz.revoke_token(TokenRevocation(world.tenant, owner_token.token.id, world.user, Role.MEMBER)),
        PermissionDenied,
    )
    revoked = run(world.vz.revoke_token(TokenRevocation(world.tenant, member_token.token.id, world.user, Role.MEMBER)))
    assert revoked.revoked_at is not None


def test_an_invited_member_has_their_own_user_role_and_token(world: World) -> None:
    secret, bo = _invite(world, "member")
    from valorize_core.model.identity import hash_token

    token = run(world.vz.ports.directory.token_by_hash(hash_token(secret)))
    assert token is not None
    assert (token.user_id, token.role) == (bo, Role.MEMBER)
    assert bo != world.user
    world.fails_cleanly(
        world.vz.invite_member(NewMember(world.tenant, "BO@example.com", "Bo", "viewer", Role.OWNER)), Conflict
    )
    world.fails_cleanly(  # already a member here
        world.vz.invite_member(NewMember(world.tenant, "ana@example.com", "Ana", "viewer", Role.OWNER)), Conflict
    )
    run(world.vz.signup(SignupRequest("Elsewhere", "zoe@example.com", "Zoe")))
    world.fails_cleanly(  # an e-mail another tenant registered is theirs
        world.vz.invite_member(NewMember(world.tenant, "zoe@example.com", "Zoe", "viewer", Role.OWNER)), Conflict
    )
    world.fails_cleanly(  # a member token cannot invite an owner
        world.vz.invite_member(NewMember(world.tenant, "cy@example.com", "Cy", "owner", Role.MEMBER)),
        PermissionDenied,
    )


def test_the_last_owner_can_be_neither_demoted_nor_removed(world: World) -> None:
    world.fails_cleanly(
        world.vz.change_member_role(MemberRoleChange(world.tenant, world.user, "member", Role.OWNER)), Conflict
    )
    world.fails_cleanly(world.vz.remove_member(MemberRemoval(world.tenant, world.user, Role.OWNER)), Conflict)
    _, bo = _invite(world, "owner")
    changed = run(world.vz.change_member_role(MemberRoleChange(world.tenant, world.user, "viewer", Role.OWNER)))
    assert changed.member.role is Role.VIEWER
    assert {t.role for t in changed.tokens} == {Role.VIEWER}  # the first token came down with it
    world.fails_cleanly(
        world.vz.remove_member(MemberRemoval(world.tenant, bo, Role.OWNER)),
        Conflict,
    )


def test_removal_revokes_every_token_of_the_member_at_once(world: World) -> None:
    secret, bo = _invite(world, "member")
    run(world.vz.create_token(NewToken(world.tenant, bo, "phone", "viewer", Role.OWNER)))
    removed = run(world.vz.remove_member(MemberRemoval(world.tenant, bo, Role.OWNER)))
    assert len(removed.tokens) == 2
    assert all(t.revoked_at is not None for t in removed.tokens)
    from valorize_core.model.identity import hash_token

    assert run(world.vz.ports.directory.token_by_hash(hash_token(secret))) is None
    world.fails_cleanly(
        world.vz.remove_member(MemberRemoval(world.tenant, bo, Role.OWNER)),
        NotFound,
    )
    # they can be invited again: the same person, a new first token
    secret_again, bo_again = _invite(world, "viewer")
    assert bo_again == bo
    assert secret_again != secret


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_a_covering_role_manages_a_member(world: World, role: str) -> None:
    _, bo = _invite(world, "owner")
    asking = Role(role)
    world.fails_cleanly(
        world.vz.change_member_role(MemberRoleChange(world.tenant, bo, "viewer", asking)),
        PermissionDenied,
    )
    world.fails_cleanly(
        world.vz.remove_member(MemberRemoval(world.tenant, bo, asking)),
        PermissionDenied,
    )
