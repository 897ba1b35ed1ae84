variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "region" {
  type        = string
  description = "Region of the queue."
}

variable "name" {
  type        = string
  description = "Prefix of the queue name."
}

variable "enqueuers" {
  type        = list(string)
  description = "Members allowed to enqueue (the api and worker service accounts)."
}

variable "max_dispatches_per_second" {
  type        = number
  description = "Delivery rate ceiling; the paper's drain ran at 86 tasks/s."
  default     = 500
}

variable "max_concurrent_dispatches" {
  type        = number
  description = "Deliveries in flight; bounded by worker instances x concurrency."
  default     = 200
}
