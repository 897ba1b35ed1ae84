output "slo_ids" {
  description = "The three SLOs."
  value       = local.slos
}
