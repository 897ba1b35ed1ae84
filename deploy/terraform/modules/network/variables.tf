variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "region" {
  type        = string
  description = "Region of the subnet and the connector."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "subnet_cidr" {
  type        = string
  description = "The subnet's range."
  default     = "10.10.0.0/20"
}

variable "connector_cidr" {
  type        = string
  description = "A /28 for the Serverless VPC Access connector."
  default     = "10.8.0.0/28"
}

variable "connector_max_instances" {
  type        = number
  description = "Connector throughput ceiling (instances of 100 Mbps)."
  default     = 10
}
