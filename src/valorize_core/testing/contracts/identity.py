"""Contract of the identity repository and the cross-tenant directory."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from valorize_core.context import Ports
from valorize_core.errors import Conflict
from valorize_core.identity import ApiToken, Membership, Role, Tenant, User, generate_token_secret, hash_token
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract

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
