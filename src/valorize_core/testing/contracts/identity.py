"""Contract of the identity repository and the cross-tenant directory."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.identity import (
    ApiToken,
    Member,
    Membership,
    Role,
    Tenant,
    User,
    generate_token_secret,
    hash_token,
)
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["IdentityContract"]


class IdentityContract(PortsContract):
    def _signup(self, ports: Ports) -> tuple[Tenant, User, ApiToken]:
        t = Tenant(self.new_id(), "Household", NOW)
        u = User(self.new_id(), f"{uuid.uuid4().hex}@Example.com", "Ana", NOW)
        token = ApiToken(self.new_id(), t.id, u.id, "cli", hash_token(generate_token_secret()), Role.OWNER, NOW)

        async def step(uow: UnitOfWork) -> None:
            await uow.identity.add_tenant(t)
            await uow.identity.add_user(u)
            await uow.identity.add_membership(Membership(t.id, u.id, Role.OWNER))
            await uow.identity.add_token(token)

        self.write(ports, t.id, step)
        return t, u, token

    def test_identity_round_trip(self, ports: Ports) -> None:
        t, u, token = self._signup(ports)
        assert self.read(ports, t.id, lambda uow: uow.identity.get_tenant()) == t
        assert self.read(ports, t.id, lambda uow: uow.identity.get_user(u.id)) == u
        assert self.read(ports, t.id, lambda uow: uow.identity.get_membership(u.id)) == Membership(
            t.id, u.id, Role.OWNER
        )
        assert self.read(ports, t.id, lambda uow: uow.identity.get_token(token.id)) == token
        assert self.read(ports, t.id, lambda uow: uow.identity.list_tokens()) == [token]
        revoked = replace(token, revoked_at=NOW)
        self.write(ports, t.id, lambda uow: uow.identity.update_token(revoked))
        assert self.read(ports, t.id, lambda uow: uow.identity.list_tokens(u.id)) == [revoked]

    def test_directory_finds_tokens_and_users_across_tenants(self, ports: Ports) -> None:
        _, u, token = self._signup(ports)
        assert self.run(ports.directory.token_by_hash(token.token_hash)) == token
        assert self.run(ports.directory.user_by_email(u.email.upper())) == u
        assert self.run(ports.directory.memberships(u.id)) == [Membership(token.tenant_id, u.id, Role.OWNER)]
        assert self.run(ports.directory.memberships(self.new_id())) == []
        assert self.run(ports.directory.token_by_hash("0" * 64)) is None
        assert self.run(ports.directory.user_by_email("nobody@example.com")) is None

    def test_emails_are_unique_across_tenants(self, ports: Ports) -> None:
        _, u, _ = self._signup(ports)
        other = Tenant(self.new_id(), "Other", NOW)

        async def step(uow: UnitOfWork) -> None:
            await uow.identity.add_tenant(other)
            await uow.identity.add_user(User(self.new_id(), u.email, "Copy", NOW))

        with pytest.raises(Conflict):
            self.write(ports, other.id, step)
        assert self.run(ports.directory.user_by_email(u.email)) == u

    def test_members_of_other_tenants_are_invisible(self, ports: Ports) -> None:
        _, u, token = self._signup(ports)
        other, _, _ = self._signup(ports)
        assert self.read(ports, other.id, lambda uow: uow.identity.get_user(u.id)) is None
        assert self.read(ports, other.id, lambda uow: uow.identity.get_token(token.id)) is None
        assert self.read(ports, other.id, lambda uow: uow.identity.get_membership(u.id)) is None

    def _second_member(self, ports: Ports, t: Tenant, role: Role) -> tuple[User, ApiToken]:
        bo = User(self.new_id(), f"{uuid.uuid4().hex}@example.com", "Bo", NOW)
        token = ApiToken(self.new_id(), t.id, bo.id, "bo", hash_token(generate_token_secret()), role, NOW)

        async def step(uow: UnitOfWork) -> None:
            await uow.identity.add_user(bo)
            await uow.identity.add_membership(Membership(t.id, bo.id, role))
            await uow.identity.add_token(token)

        self.write(ports, t.id, step)
        return bo, token

    def test_members_are_listed_changed_and_removed(self, ports: Ports) -> None:
        t, ana, _ = self._signup(ports)
        bo, bo_token = self._second_member(ports, t, Role.MEMBER)
        members = self.read(ports, t.id, lambda uow: uow.identity.list_members(for_update=True))
        assert members == sorted([Member(ana, Role.OWNER), Member(bo, Role.MEMBER)], key=lambda m: m.user.email)
        self.write(ports, t.id, lambda uow: uow.identity.add_membership(Membership(t.id, bo.id, Role.VIEWER)))
        assert self.read(ports, t.id, lambda uow: uow.identity.get_membership(bo.id)) == Membership(
            t.id, bo.id, Role.VIEWER
        )
        self.write(ports, t.id, lambda uow: uow.identity.remove_membership(bo.id))
        assert self.read(ports, t.id, lambda uow: uow.identity.list_members()) == [Member(ana, Role.OWNER)]
        assert self.read(ports, t.id, lambda uow: uow.identity.get_user(bo.id)) is None
        # the user stays (their e-mail is theirs), and so do their tokens, for the record
        assert self.read(ports, t.id, lambda uow: uow.identity.home_user_by_email(bo.email.upper())) == bo
        assert self.read(ports, t.id, lambda uow: uow.identity.get_token(bo_token.id)) == bo_token
        with pytest.raises(NotFound):
            self.write(ports, t.id, lambda uow: uow.identity.remove_membership(bo.id))
        other, _, _ = self._signup(ports)
        assert self.read(ports, other.id, lambda uow: uow.identity.home_user_by_email(bo.email)) is None
        assert self.read(ports, other.id, lambda uow: uow.identity.list_members()) != []
        assert bo.id not in {m.user.id for m in self.read(ports, other.id, lambda uow: uow.identity.list_members())}

    def test_a_token_authenticates_no_more_than_its_membership(self, ports: Ports) -> None:
        t, _, _ = self._signup(ports)
        bo, token = self._second_member(ports, t, Role.OWNER)
        assert self.run(ports.directory.token_by_hash(token.token_hash)) == token
        self.write(ports, t.id, lambda uow: uow.identity.add_membership(Membership(t.id, bo.id, Role.VIEWER)))
        assert self.run(ports.directory.token_by_hash(token.token_hash)) == replace(token, role=Role.VIEWER)
        self.write(ports, t.id, lambda uow: uow.identity.remove_membership(bo.id))
        assert self.run(ports.directory.token_by_hash(token.token_hash)) is None
