output "connection_name" {
  description = "project:region:instance."
  value       = google_sql_database_instance.main.connection_name
}

output "private_ip" {
  description = "The instance's private address."
  value       = google_sql_database_instance.main.private_ip_address
}

output "database_url" {
  description = "The application's PostgreSQL URL (goes to Secret Manager, never to plain env)."
  value       = "postgresql://${google_sql_user.app.name}:${random_password.app.result}@${google_sql_database_instance.main.private_ip_address}:5432/${google_sql_database.valorize.name}?sslmode=require"
  sensitive   = true
}
