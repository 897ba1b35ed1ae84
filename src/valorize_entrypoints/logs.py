"""Logging shared by the API and the worker: JSON lines, and what a request id may look like."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import msgspec

__all__ = ["SAFE_REQUEST_ID", "JsonFormatter", "configure_logging"]

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


_encoder = msgspec.json.Encoder(enc_hook=str)  # anything not JSON (ids, dates) as its str()


class JsonFormatter(logging.Formatter):
    """Log records as single-line JSON objects."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(getattr(record, "fields", {}))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(data).decode()


def configure_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    """Send Valorize's logs to stderr, as JSON lines or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("valorize")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
