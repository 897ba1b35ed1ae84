variable "project_id" {
  type        = string
  description = "The Google Cloud project."
}

variable "name" {
  type        = string
  description = "Prefix of every secret id."
}

variable "database_url" {
  type        = string
  description = "PostgreSQL URL (database module output)."
  sensitive   = true
}

variable "redis_url" {
  type        = string
  description = "Redis URL (cache module output)."
  sensitive   = true
}

variable "redis_ca" {
  type        = string
  description = "Memorystore's server CA (cache module output)."
}

variable "accessors" {
  type        = map(list(string))
  description = "Secret name (database-url, redis-url, redis-ca, pusher-secret) => members allowed to read it."
}
