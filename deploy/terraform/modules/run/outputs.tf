output "service_names" {
  description = "Cloud Run service names by role."
  value       = { for key, service in google_cloud_run_v2_service.service : key => service.name }
}

output "urls" {
  description = "Cloud Run URLs by role (api and realtime are reached through the load balancer)."
  value       = { for key, service in google_cloud_run_v2_service.service : key => service.uri }
}

output "worker_url" {
  description = "The worker's URL, where Cloud Tasks pushes."
  value       = local.worker_url
}

output "migrate_job" {
  description = "The migration job's name (gcloud run jobs execute)."
  value       = google_cloud_run_v2_job.migrate.name
}
