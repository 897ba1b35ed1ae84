output "secret_ids" {
  description = "Secret Manager ids by name (database-url, redis-url, redis-ca, pusher-secret)."
  value       = { for name, secret in google_secret_manager_secret.secret : name => secret.secret_id }
}
