variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "region" {
  type        = string
  description = "Region of the services."
}

variable "name" {
  type        = string
  description = "Prefix of the service names."
}

variable "image" {
  type        = string
  description = "The Valorize image (Artifact Registry), e.g. REGION-docker.pkg.dev/P/valorize/valorize:TAG."
}

variable "service_accounts" {
  type        = map(string)
  description = "Service account e-mails by service: api, worker, realtime, tasks (iam module output)."
}

variable "secret_ids" {
  type        = map(string)
  description = "Secret Manager ids by name (secrets module output)."
}

variable "queue_path" {
  type        = string
  description = "The Cloud Tasks queue (tasks module output)."
}

variable "connector_id" {
  type        = string
  description = "Serverless VPC Access connector (network module output)."
}

variable "pusher_app_id" {
  type        = string
  description = "Realtime app id (digits)."
  default     = "100001"
}

variable "pusher_key" {
  type        = string
  description = "Realtime app key (public: browsers send it)."
  default     = "valorize-key"
}

variable "db_pool_max" {
  type        = number
  description = "Connections per process (api: per granian worker); half the API's concurrency per vCPU (docs/deploy.md, Sizing)."
  default     = 8
}

variable "api_cpu" {
  type        = number
  description = "vCPUs per API instance; it runs one granian worker per vCPU (docs/deploy.md, Sizing)."
  default     = 1
}

variable "api_concurrency" {
  type        = number
  description = "Requests in flight per API vCPU: a full instance queues at most this x ~2 ms of mixed work (docs/deploy.md, Sizing)."
  default     = 16
}

variable "api_min_instances" {
  type        = number
  description = "Warm API instances."
  default     = 1
}

variable "api_max_instances" {
  type        = number
  description = "API ceiling: 1,000 of the paper's virtual users need ~4 vCPUs at 60 % (docs/deploy.md, Sizing); the paper's quota was 10."
  default     = 6
}

variable "worker_max_instances" {
  type        = number
  description = "Worker ceiling: a write enqueues 0-2 follow-up tasks, each ~1.4 ms of worker CPU (docs/deploy.md, Sizing)."
  default     = 4
}

variable "realtime_min_instances" {
  type        = number
  description = "Warm realtime instances (connections never wait for a cold start)."
  default     = 1
}

variable "realtime_max_instances" {
  type        = number
  description = "Realtime ceiling."
  default     = 5
}

variable "schedule_tick_cron" {
  type        = string
  description = "How often Cloud Scheduler asks the worker to post due schedule occurrences (cron, UTC)."
  default     = "*/5 * * * *"
}

variable "pusher_webhook_urls" {
  type        = list(string)
  description = "Where the realtime service sends Pusher webhooks, through the task queue; none: off."
  default     = []
}
