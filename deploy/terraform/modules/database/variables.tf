variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "region" {
  type        = string
  description = "Region of the instance."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "network_id" {
  type        = string
  description = "VPC the private IP lives in (network module output)."
}

variable "private_services_connection" {
  type        = string
  description = "Private services access the instance waits for (network module output)."
}

variable "tier" {
  type        = string
  description = "Machine tier: 2 vCPU carry 1,000 of the paper's virtual users at ~40 % (docs/deploy.md, Sizing); the paper ran 2 vCPU / 16 GiB."
  default     = "db-custom-2-13312"
}

variable "high_availability" {
  type        = bool
  description = "A standby in a second zone (REGIONAL)."
  default     = true
}

variable "max_connections" {
  type        = number
  description = "PostgreSQL max_connections: (api vCPUs + worker instances) x pool size, plus headroom (docs/deploy.md, Sizing)."
  default     = 200
}
