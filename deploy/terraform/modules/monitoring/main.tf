# The paper's SLOs as code, on the API's Cloud Run metrics and an uptime check, with
# multi-window burn-rate alerts (Google SRE workbook: page at 14.4x over 1 h, ticket at 6x over
# 6 h):
#   latency       95 % of requests within 300 ms (P95 <= 300 ms), 28 days
#   errors        99.5 % of requests without a 5xx (errors < 0.5 %), 28 days
#   availability  99.5 % of one-minute windows where the uptime check passes, 28 days

locals {
  run_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.api_service}\""
  burn_rates = {
    page   = { window = "3600s", threshold = 14.4 }
    ticket = { window = "21600s", threshold = 6 }
  }
}

resource "google_monitoring_custom_service" "api" {
  project      = var.project_id
  service_id   = "${var.name}-api"
  display_name = "Valorize API"
}

resource "google_monitoring_uptime_check_config" "health" {
  project      = var.project_id
  display_name = "${var.name} /health"
  timeout      = "10s"
  period       = "60s"

  http_check {
    path         = "/health"
    port         = 443
    use_ssl      = true
    validate_ssl = true
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.domain
    }
  }
}

resource "google_monitoring_slo" "latency" {
  project             = var.project_id
  service             = google_monitoring_custom_service.api.service_id
  slo_id              = "latency-p95-300ms"
  display_name        = "95% of API requests within 300 ms"
  goal                = 0.95
  rolling_period_days = 28

  request_based_sli {
    distribution_cut {
      distribution_filter = "metric.type=\"run.googleapis.com/request_latencies\" AND ${local.run_filter}"
      range {
        max = 300
      }
    }
  }
}

resource "google_monitoring_slo" "errors" {
  project             = var.project_id
  service             = google_monitoring_custom_service.api.service_id
  slo_id              = "errors-below-0-5pct"
  display_name        = "99.5% of API requests without a server error"
  goal                = 0.995
  rolling_period_days = 28

  request_based_sli {
    good_total_ratio {
      bad_service_filter   = "metric.type=\"run.googleapis.com/request_count\" AND ${local.run_filter} AND metric.labels.response_code_class=\"5xx\""
      total_service_filter = "metric.type=\"run.googleapis.com/request_count\" AND ${local.run_filter}"
    }
  }
}

resource "google_monitoring_slo" "availability" {
  project             = var.project_id
  service             = google_monitoring_custom_service.api.service_id
  slo_id              = "availability-99-5pct"
  display_name        = "API available 99.5% of minutes"
  goal                = 0.995
  rolling_period_days = 28

  windows_based_sli {
    window_period = "60s"
    good_bad_metric_filter = join(" AND ", [
      "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\"",
      "resource.type=\"uptime_url\"",
      "metric.labels.check_id=\"${google_monitoring_uptime_check_config.health.uptime_check_id}\"",
    ])
  }
}

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "Valorize on-call"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
}

resource "google_monitoring_alert_policy" "burn" {
  for_each = {
    for pair in setproduct(["latency", "errors", "availability"], keys(local.burn_rates)) :
    "${pair[0]}-${pair[1]}" => { slo = pair[0], speed = pair[1] }
  }
  project               = var.project_id
  display_name          = "${var.name}: ${each.value.slo} SLO burning ${local.burn_rates[each.value.speed].threshold}x (${each.value.speed})"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "${each.value.slo} burn rate over ${local.burn_rates[each.value.speed].window}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${local.slos[each.value.slo]}\", \"${local.burn_rates[each.value.speed].window}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = local.burn_rates[each.value.speed].threshold
      duration        = "0s"
    }
  }

  documentation {
    content   = "The ${each.value.slo} SLO's error budget is burning ${local.burn_rates[each.value.speed].threshold}x faster than sustainable. Runbook: docs/deploy.md#when-an-alert-fires"
    mime_type = "text/markdown"
  }
}

locals {
  slos = {
    latency      = google_monitoring_slo.latency.id
    errors       = google_monitoring_slo.errors.id
    availability = google_monitoring_slo.availability.id
  }
}
