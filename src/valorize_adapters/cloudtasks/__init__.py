"""Google Cloud Tasks: the production task queue, pushing tasks to the worker over HTTPS."""

from valorize_adapters.cloudtasks.oidc import GoogleIdTokenVerifier, InvalidCaller
from valorize_adapters.cloudtasks.queue import CloudTasksQueue, cloud_tasks_client

__all__ = ["CloudTasksQueue", "GoogleIdTokenVerifier", "InvalidCaller", "cloud_tasks_client"]
