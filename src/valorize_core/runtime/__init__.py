"""The commit/runtime pipeline: what runs around the use cases, not inside them.

The unit of work's commit hooks (``pipeline``), the read caches and their retirement
(``caching``, ``near_cache``, ``token_cache``), event publishing and the outbox relay
(``publishing``, ``relay``) and the task runner (``tasks``), which runs tasks on the application.
"""
