-- The request id that caused an event or a task, carried into the worker's logs.
ALTER TABLE outbox ADD COLUMN correlation_id text;
ALTER TABLE task_queue ADD COLUMN correlation_id text;
ALTER TABLE dead_letters ADD COLUMN correlation_id text;
