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
Reader: TypeAlias = NamedDependency[Actor]  # any authenticated token
Writer: TypeAlias = NamedDependency[Actor]  # a token allowed to write
