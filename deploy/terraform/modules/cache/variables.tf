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
  description = "VPC the instance attaches to (network module output)."
}

variable "private_services_connection" {
  type        = string
  description = "Private services access the instance waits for (network module output)."
}

variable "tier" {
  type        = string
  description = "BASIC or STANDARD_HA."
  default     = "STANDARD_HA"
}

variable "memory_size_gb" {
  type        = number
  description = "Memory in GiB."
  default     = 1
}

variable "ca_path" {
  type        = string
  description = "Where the services mount the server CA (the run module mounts it there)."
  default     = "/secrets/redis-ca/ca.pem"
}
