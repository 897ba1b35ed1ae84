# The Cloud Tasks queue pushing to the worker. Its retries are safe because the worker records
# each task id with the task's effects: a redelivery is answered "duplicate" with no second
# effect. The settings mirror the local dispatcher (8 attempts, backoff doubling to 5 minutes).

resource "google_cloud_tasks_queue" "tasks" {
  project  = var.project_id
  name     = "${var.name}-tasks"
  location = var.region

  rate_limits {
    max_dispatches_per_second = var.max_dispatches_per_second
    max_concurrent_dispatches = var.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = 8
    min_backoff        = "1s"
    max_backoff        = "300s"
    max_doublings      = 9
    max_retry_duration = "86400s"
  }

  stackdriver_logging_config {
    sampling_ratio = 0.1
  }
}

resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = toset(var.enqueuers)
  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.tasks.name
  role     = "roles/cloudtasks.enqueuer"
  member   = each.value
}
