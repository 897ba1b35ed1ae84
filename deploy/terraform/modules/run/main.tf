# Three Cloud Run services from one image — api, worker, realtime — and a migration job.
#
# * api: reachable only through the load balancer (ingress), public behind it.
# * worker: internal ingress, and only the tasks service account may invoke it: Cloud Tasks
#   pushes with that account's OIDC token, which the worker verifies again (google-auth).
# * realtime: WebSockets through the load balancer, session affinity, hour-long requests, and
#   warm minimum instances so connections do not wait for a cold start.

data "google_project" "current" {
  project_id = var.project_id
}

locals {
  # Cloud Run URLs are deterministic, so the worker can be named before it exists (the worker
  # enqueues follow-up tasks to itself).
  worker_url = "https://${var.name}-worker-${data.google_project.current.number}.${var.region}.run.app"

  plain_env = {
    VALORIZE_BACKEND                     = "postgres"
    VALORIZE_RUN_MIGRATIONS              = "false"
    VALORIZE_LOG_JSON                    = "true"
    VALORIZE_TASK_QUEUE                  = "cloudtasks"
    VALORIZE_CLOUD_TASKS_QUEUE           = var.queue_path
    VALORIZE_CLOUD_TASKS_SERVICE_ACCOUNT = var.service_accounts["tasks"]
    VALORIZE_WORKER_URL                  = local.worker_url
    VALORIZE_PUSHER_APP_ID               = var.pusher_app_id
    VALORIZE_PUSHER_KEY                  = var.pusher_key
    VALORIZE_DB_POOL_MAX                 = tostring(var.db_pool_max)
    VALORIZE_PUSHER_WEBHOOK_URLS         = join(",", var.pusher_webhook_urls)
  }

  # Environment variable => the Secret Manager secret it is read from (names, not values).
  secret_env = {
    VALORIZE_DATABASE_URL  = "database-url"
    VALORIZE_REDIS_URL     = "redis-url"
    # checkov:skip=CKV_SECRET_6: the name of a secret, not a secret
    VALORIZE_PUSHER_SECRET = "pusher-secret"
  }

  services = {
    # Sizes follow the scaling model in docs/deploy.md ("Sizing"): one granian process per vCPU,
    # and no more requests in flight than a vCPU clears well within the SLO.
    api = {
      args        = ["api", "--workers", tostring(var.api_cpu)]
      cpu         = tostring(var.api_cpu)
      memory      = "${var.api_cpu}Gi"
      ingress     = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
      min         = var.api_min_instances
      max         = var.api_max_instances
      concurrency = var.api_concurrency * var.api_cpu
      timeout     = "30s"
      affinity    = false
      secrets     = ["VALORIZE_DATABASE_URL", "VALORIZE_REDIS_URL", "VALORIZE_PUSHER_SECRET"]
    }
    worker = {
      args        = ["worker"]
      cpu         = "1"
      memory      = "1Gi"
      ingress     = "INGRESS_TRAFFIC_INTERNAL_ONLY"
      min         = 0
      max         = var.worker_max_instances
      concurrency = 20
      timeout     = "600s"
      affinity    = false
      secrets     = ["VALORIZE_DATABASE_URL", "VALORIZE_REDIS_URL", "VALORIZE_PUSHER_SECRET"]
    }
    realtime = {
      args        = ["realtime"]
      cpu         = "1"
      memory      = "1Gi"
      ingress     = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
      min         = var.realtime_min_instances
      max         = var.realtime_max_instances
      concurrency = 1000
      timeout     = "3600s"
      affinity    = true
      secrets     = ["VALORIZE_REDIS_URL", "VALORIZE_PUSHER_SECRET"]
    }
  }
}

resource "google_cloud_run_v2_service" "service" {
  for_each            = local.services
  project             = var.project_id
  name                = "${var.name}-${each.key}"
  location            = var.region
  ingress             = each.value.ingress
  deletion_protection = false

  template {
    service_account                  = var.service_accounts[each.key]
    timeout                          = each.value.timeout
    session_affinity                 = each.value.affinity
    max_instance_request_concurrency = each.value.concurrency

    scaling {
      min_instance_count = each.value.min
      max_instance_count = each.value.max
    }

    vpc_access {
      connector = var.connector_id
      egress    = "PRIVATE_RANGES_ONLY"
    }

    volumes {
      name = "redis-ca"
      secret {
        secret = var.secret_ids["redis-ca"]
        items {
          version = "latest"
          path    = "ca.pem"
        }
      }
    }

    containers {
      image = var.image
      args  = each.value.args

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = each.value.cpu
          memory = each.value.memory
        }
        cpu_idle = each.key != "realtime"
      }

      dynamic "env" {
        for_each = local.plain_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = toset(each.value.secrets)
        content {
          name = env.value
          value_source {
            secret_key_ref {
              secret  = var.secret_ids[local.secret_env[env.value]]
              version = "latest"
            }
          }
        }
      }

      volume_mounts {
        name       = "redis-ca"
        mount_path = "/secrets/redis-ca"
      }

      startup_probe {
        http_get {
          path = "/health"
        }
        period_seconds    = 2
        failure_threshold = 15
      }

      liveness_probe {
        http_get {
          path = "/health"
        }
        period_seconds = 30
      }
    }
  }
}

# Public behind the load balancer (ingress admits nothing else): the API authenticates its own
# callers with bearer tokens, and the realtime server with Pusher signatures.
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = toset(["api", "realtime"])
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The worker: only Cloud Tasks' identity.
resource "google_cloud_run_v2_service_iam_member" "worker_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.service["worker"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.service_accounts["tasks"]}"
}

# Cloud Scheduler -> the worker's POST /schedules/tick, which enqueues one `post_schedules` task
# per tenant with a schedule occurrence due into the Cloud Tasks queue (posting is once per
# schedule and date, so a retried or doubled tick adds nothing). It calls with the tasks
# identity's OIDC token, the one caller the worker accepts (internal ingress admits Cloud
# Scheduler of the same project).
resource "google_cloud_scheduler_job" "schedules" {
  project          = var.project_id
  region           = var.region
  name             = "${var.name}-schedules"
  description      = "Post due schedule occurrences (valorize issue 27)"
  schedule         = var.schedule_tick_cron
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "5s"
    max_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = "${local.worker_url}/schedules/tick"

    oidc_token {
      service_account_email = var.service_accounts["tasks"]
      audience              = local.worker_url
    }
  }
}

# `valorize migrate`, run once per release before traffic moves (docs/deploy.md).
resource "google_cloud_run_v2_job" "migrate" {
  project             = var.project_id
  name                = "${var.name}-migrate"
  location            = var.region
  deletion_protection = false

  template {
    template {
      service_account = var.service_accounts["api"]
      max_retries     = 1

      vpc_access {
        connector = var.connector_id
        egress    = "PRIVATE_RANGES_ONLY"
      }

      containers {
        image = var.image
        args  = ["migrate"]

        env {
          name = "VALORIZE_DATABASE_URL"
          value_source {
            secret_key_ref {
              secret  = var.secret_ids["database-url"]
              version = "latest"
            }
          }
        }
      }
    }
  }
}
