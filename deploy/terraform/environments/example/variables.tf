variable "project_id" {
  type        = string
  description = "The Google Cloud project to deploy into."
}

variable "region" {
  type        = string
  description = "Region for every regional resource (the paper used us-central1)."
  default     = "us-central1"
}

variable "name" {
  type        = string
  description = "Prefix of resource names (short: service account ids allow 30 characters)."
  default     = "valorize"
}

variable "image" {
  type        = string
  description = "The image built from the repository's Dockerfile and pushed to Artifact Registry."
}

variable "domain" {
  type        = string
  description = "Public host name, e.g. app.example.com."
}

variable "alert_email" {
  type        = string
  description = "Where SLO burn-rate alerts are sent."
}

# The defaults carry the paper's 1,000 virtual users of its mixed load; ten-thousand-users.tfvars
# carries ten times that. The arithmetic: docs/deploy.md, "Sizing".

variable "database_tier" {
  type        = string
  description = "Cloud SQL tier (the paper ran 2 vCPU, 16 GiB)."
  default     = "db-custom-2-13312"
}

variable "database_max_connections" {
  type        = number
  description = "PostgreSQL max_connections: (api vCPUs + worker instances) x db_pool_max, plus headroom."
  default     = 200
}

variable "api_cpu" {
  type        = number
  description = "vCPUs per API instance (one granian worker each)."
  default     = 1
}

variable "api_concurrency" {
  type        = number
  description = "Requests in flight per API vCPU."
  default     = 16
}

variable "api_max_instances" {
  type        = number
  description = "API instance ceiling (1,000 users need ~4 of 1 vCPU at 60 %; the paper's quota was 10)."
  default     = 6
}

variable "worker_max_instances" {
  type        = number
  description = "Worker instance ceiling."
  default     = 4
}

variable "db_pool_max" {
  type        = number
  description = "Database connections per process."
  default     = 8
}

variable "realtime_min_instances" {
  type        = number
  description = "Warm realtime instances."
  default     = 1
}

variable "pusher_webhook_urls" {
  type        = list(string)
  description = "Where the realtime service sends Pusher webhooks (channel_occupied, member_added, ...); none: off."
  default     = []
}
