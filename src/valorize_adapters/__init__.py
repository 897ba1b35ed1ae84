"""Adapters: implementations of :mod:`valorize_core.ports` over real infrastructure and memory."""
