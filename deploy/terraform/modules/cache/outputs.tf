output "redis_url" {
  description = "rediss:// URL with the AUTH string, verifying the server against its CA mounted at var.ca_path (goes to Secret Manager)."
  value       = "rediss://:${google_redis_instance.main.auth_string}@${google_redis_instance.main.host}:${google_redis_instance.main.port}/0?ssl_ca_certs=${var.ca_path}"
  sensitive   = true
}

output "server_ca" {
  description = "The instance's server CA certificate (PEM), for in-transit encryption."
  value       = google_redis_instance.main.server_ca_certs[0].cert
}

output "host" {
  description = "The instance's private address."
  value       = google_redis_instance.main.host
}
