variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "name" {
  type        = string
  description = "Prefix of the service account ids (at most 19 characters)."
}
