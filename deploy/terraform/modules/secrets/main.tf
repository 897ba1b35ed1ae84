# Secret Manager holds every credential; services read them as secret environment variables
# or files, and each service account may read only the secrets it needs.

locals {
  values = {
    database-url  = var.database_url
    redis-url     = var.redis_url
    redis-ca      = var.redis_ca
    pusher-secret = random_password.pusher.result
  }
}

resource "random_password" "pusher" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret" "secret" {
  for_each  = local.values
  project   = var.project_id
  secret_id = "${var.name}-${each.key}"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "current" {
  for_each    = local.values
  secret      = google_secret_manager_secret.secret[each.key].id
  secret_data = each.value
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = {
    for pair in flatten([
      for secret, members in var.accessors : [for member in members : { secret = secret, member = member }]
    ]) : "${pair.secret}/${pair.member}" => pair
  }
  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
