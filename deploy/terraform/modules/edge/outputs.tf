output "ip_address" {
  description = "The address to point the domain's A record at."
  value       = google_compute_global_address.edge.address
}

output "api_backend" {
  description = "The API backend service (its latency and errors feed the SLOs)."
  value       = google_compute_backend_service.api.name
}
