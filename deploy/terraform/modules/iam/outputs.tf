output "emails" {
  description = "Service account e-mails by service: api, worker, realtime, tasks."
  value       = { for key, sa in google_service_account.service : key => sa.email }
}

output "members" {
  description = "IAM members (serviceAccount:...) by service."
  value       = { for key, sa in google_service_account.service : key => "serviceAccount:${sa.email}" }
}
