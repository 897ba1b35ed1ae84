"""Queries: the read side, one per module."""
