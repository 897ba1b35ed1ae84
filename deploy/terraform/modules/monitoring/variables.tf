variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "api_service" {
  type        = string
  description = "The API's Cloud Run service name (run module output)."
}

variable "domain" {
  type        = string
  description = "The public host name the uptime check calls."
}

variable "alert_email" {
  type        = string
  description = "Where burn-rate alerts go."
}
