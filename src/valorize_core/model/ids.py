"""Time-ordered identifiers in the UUIDv7 layout (RFC 9562).

The first 48 bits are Unix milliseconds, so ids sort by creation time and index well in
B-trees; the rest is random, with a 12-bit counter that keeps ids made within one millisecond
by one generator strictly increasing.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ["TimeOrderedIds", "parse_id", "timestamp_ms", "uuid7"]


def uuid7(unix_ms: int, rand_a: int, rand_b: int) -> uuid.UUID:
    """Assemble a UUIDv7 from a millisecond timestamp, 12 bits ``rand_a`` and 62 bits ``rand_b``."""
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError("timestamp out of range for UUIDv7")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand_a & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand_b & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def timestamp_ms(value: uuid.UUID) -> int:
    """The Unix millisecond timestamp embedded in a UUIDv7."""
    return value.int >> 80


def parse_id(text: object, field: str = "id") -> uuid.UUID:
    """Parse an id from text, raising a domain validation error on anything else."""
    from valorize_core.model.errors import ValidationError

    if isinstance(text, uuid.UUID):
        return text
    if not isinstance(text, str):
        raise ValidationError.for_field(field, "must be a UUID string")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError.for_field(field, f"{text!r} is not a valid id") from None


class TimeOrderedIds:
    """Generates UUIDv7 ids that increase strictly within this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0

    def new_id(self) -> uuid.UUID:
        """A fresh id, greater than every id this generator made before."""
        with self._lock:
            now = time.time_ns() // 1_000_000
            if now <= self._last_ms:
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    self._last_ms += 1
                    self._counter = 0
                now = self._last_ms
            else:
                self._last_ms = now
                self._counter = int.from_bytes(os.urandom(1), "big") & 0x3F
            return uuid7(now, self._counter, int.from_bytes(os.urandom(8), "big"))
