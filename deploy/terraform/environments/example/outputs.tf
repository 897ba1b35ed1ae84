output "edge_ip" {
  description = "Point the domain's A record here."
  value       = module.edge.ip_address
}

output "worker_url" {
  description = "Where Cloud Tasks pushes."
  value       = module.run.worker_url
}

output "migrate_job" {
  description = "Run before each release: gcloud run jobs execute <this> --region <region> --wait."
  value       = module.run.migrate_job
}

output "slo_ids" {
  description = "The SLOs."
  value       = module.monitoring.slo_ids
}
