# One service account per service, with nothing granted at project level: every permission is
# bound on the one resource it is for (secrets, the queue, the worker service, the tasks
# identity) by the module that owns that resource.

resource "google_service_account" "service" {
  for_each     = toset(["api", "worker", "realtime", "tasks"])
  project      = var.project_id
  account_id   = "${var.name}-${each.key}"
  display_name = "Valorize ${each.key}"
}

# The API, the worker and the realtime service (its Pusher webhooks) enqueue Cloud Tasks that
# carry an OIDC token of the tasks identity: Cloud Tasks requires the enqueuer to be able to act
# as that service account.
resource "google_service_account_iam_member" "act_as_tasks" {
  for_each           = toset(["api", "worker", "realtime"])
  service_account_id = google_service_account.service["tasks"].name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.service[each.key].email}"
}
