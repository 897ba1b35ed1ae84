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

variable "database_tier" {
  type        = string
  description = "Cloud SQL tier (paper: 2 vCPU, 16 GiB)."
  default     = "db-custom-2-16384"
}

variable "api_max_instances" {
  type        = number
  description = "API instance ceiling (the paper's quota: 10 of 1 vCPU)."
  default     = 10
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
