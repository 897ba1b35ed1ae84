"""Explicit dependency markers for handler signatures (Litestar 2.23+ style)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from valorize_core.app import Valorize
from valorize_entrypoints.api.auth import Actor
from valorize_entrypoints.container import Runtime

__all__ = ["RT", "VZ", "Reader", "Writer"]

VZ: TypeAlias = NamedDependency[Valorize]
RT: TypeAlias = NamedDependency[Runtime]
# The caller. Which role a route needs is not decided here but in the policy table
# (api/policy.py), whose guard has admitted the caller before these are resolved.
Reader: TypeAlias = NamedDependency[Actor]  # the authenticated caller
Writer: TypeAlias = NamedDependency[Actor]  # the same, on a route that writes (its entry is member or owner)
