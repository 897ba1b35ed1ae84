"""Google Cloud Tasks: the production task queue, pushing tasks to the worker over HTTPS.

The queue (``google-cloud-tasks``, whose import is slow and warns on some Python versions) is
imported when first used, so processes and commands that do not use Cloud Tasks never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from valorize_adapters.cloudtasks.oidc import GoogleIdTokenVerifier, InvalidCaller

if TYPE_CHECKING:
    from valorize_adapters.cloudtasks.queue import CloudTasksQueue, cloud_tasks_client

__all__ = ["CloudTasksQueue", "GoogleIdTokenVerifier", "InvalidCaller", "cloud_tasks_client"]


def __getattr__(name: str) -> object:
    if name in ("CloudTasksQueue", "cloud_tasks_client"):
        from valorize_adapters.cloudtasks import queue

        return getattr(queue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
