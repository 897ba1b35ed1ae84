"""Actions: the write side, one use case per module."""
