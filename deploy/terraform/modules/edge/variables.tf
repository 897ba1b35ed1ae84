variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run services."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "domain" {
  type        = string
  description = "The public host name (its DNS A record points at the edge address)."
}

variable "services" {
  type        = map(string)
  description = "Cloud Run service names for api and realtime (run module output)."
}

variable "requests_per_minute_per_ip" {
  type        = number
  description = "Cloud Armor rate limit per client address."
  default     = 1200
}
