output "queue_path" {
  description = "projects/P/locations/L/queues/Q, for VALORIZE_CLOUD_TASKS_QUEUE."
  value       = "projects/${var.project_id}/locations/${var.region}/queues/${google_cloud_tasks_queue.tasks.name}"
}
