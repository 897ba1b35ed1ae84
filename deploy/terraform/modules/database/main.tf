# Cloud SQL for PostgreSQL 16 on a private IP only, with daily backups and point-in-time
# recovery. The pgvector extension is created by Valorize's migrations (`valorize migrate`).

resource "google_sql_database_instance" "main" {
  # checkov:skip=CKV_GCP_79: PostgreSQL 16 on purpose: the same major as the embedded server of `valorize dev` (pgserver), so migrations are tested on what production runs.
  # checkov:skip=CKV_GCP_6: TLS is enforced by ssl_mode = ENCRYPTED_ONLY; the check still looks for require_ssl, which google provider 6 removed.
  # checkov:skip=CKV2_GCP_13: log_duration would log every statement (thousands per second); Query Insights records statement latency instead.
  project             = var.project_id
  name                = "${var.name}-pg"
  region              = var.region
  database_version    = "POSTGRES_16"
  deletion_protection = true

  settings {
    tier              = var.tier
    availability_type = var.high_availability ? "REGIONAL" : "ZONAL"
    disk_type         = "PD_SSD"
    disk_autoresize   = true

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = var.network_id
      enable_private_path_for_google_cloud_services = true
      ssl_mode                                      = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "03:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = 14
      }
    }

    maintenance_window {
      day  = 7
      hour = 4
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = true
      record_client_address   = false
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "max_connections"
      value = tostring(var.max_connections)
    }
  }

  depends_on = [var.private_services_connection]
}

resource "google_sql_database" "valorize" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = "valorize"
}

resource "random_password" "app" {
  length  = 40
  special = false
}

resource "google_sql_user" "app" {
  project  = var.project_id
  instance = google_sql_database_instance.main.name
  name     = "valorize"
  password = random_password.app.result
}
