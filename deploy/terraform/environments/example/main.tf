# Valorize on Google Cloud, as the paper deploys it: Cloud Run (api, worker, realtime),
# Cloud SQL for PostgreSQL 16, Memorystore for Redis, Cloud Tasks, an HTTPS load balancer with
# Cloud CDN and Cloud Armor, Secret Manager, and the SLOs with burn-rate alerts.

module "network" {
  source     = "../../modules/network"
  project_id = var.project_id
  region     = var.region
  name       = var.name
}

module "database" {
  source                      = "../../modules/database"
  project_id                  = var.project_id
  region                      = var.region
  name                        = var.name
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection
  tier                        = var.database_tier
  max_connections             = var.database_max_connections
}

module "cache" {
  source                      = "../../modules/cache"
  project_id                  = var.project_id
  region                      = var.region
  name                        = var.name
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection
}

module "iam" {
  source     = "../../modules/iam"
  project_id = var.project_id
  name       = var.name
}

module "secrets" {
  source       = "../../modules/secrets"
  project_id   = var.project_id
  name         = var.name
  database_url = module.database.database_url
  redis_url    = module.cache.redis_url
  redis_ca     = module.cache.server_ca
  accessors = {
    database-url  = [module.iam.members["api"], module.iam.members["worker"]]
    redis-url     = [module.iam.members["api"], module.iam.members["worker"], module.iam.members["realtime"]]
    redis-ca      = [module.iam.members["api"], module.iam.members["worker"], module.iam.members["realtime"]]
    pusher-secret = [module.iam.members["api"], module.iam.members["worker"], module.iam.members["realtime"]]
  }
}

module "tasks" {
  source     = "../../modules/tasks"
  project_id = var.project_id
  region     = var.region
  name       = var.name
  # the realtime service enqueues its Pusher webhooks (docs/realtime.md) when they are on
  enqueuers  = [module.iam.members["api"], module.iam.members["worker"], module.iam.members["realtime"]]
}

module "run" {
  source                 = "../../modules/run"
  project_id             = var.project_id
  region                 = var.region
  name                   = var.name
  image                  = var.image
  service_accounts       = module.iam.emails
  secret_ids             = module.secrets.secret_ids
  queue_path             = module.tasks.queue_path
  connector_id           = module.network.connector_id
  api_cpu                = var.api_cpu
  api_concurrency        = var.api_concurrency
  api_max_instances      = var.api_max_instances
  worker_max_instances   = var.worker_max_instances
  db_pool_max            = var.db_pool_max
  realtime_min_instances = var.realtime_min_instances
  pusher_webhook_urls    = var.pusher_webhook_urls
}

module "edge" {
  source     = "../../modules/edge"
  project_id = var.project_id
  region     = var.region
  name       = var.name
  domain     = var.domain
  services = {
    api      = module.run.service_names["api"]
    realtime = module.run.service_names["realtime"]
  }
}

module "monitoring" {
  source      = "../../modules/monitoring"
  project_id  = var.project_id
  name        = var.name
  api_service = module.run.service_names["api"]
  domain      = var.domain
  alert_email = var.alert_email
}
