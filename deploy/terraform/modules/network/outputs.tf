output "network_id" {
  description = "The VPC (Cloud SQL private IP and Memorystore attach to it)."
  value       = google_compute_network.vpc.id
}

output "connector_id" {
  description = "The Serverless VPC Access connector Cloud Run services egress through."
  value       = google_vpc_access_connector.serverless.id
}

output "private_services_connection" {
  description = "Private services access; Cloud SQL and Memorystore depend on it."
  value       = google_service_networking_connection.private_services.id
}
