# Memorystore for Redis: the read cache and the realtime backplane. Private service access,
# AUTH and in-transit encryption on; Redis is never the source of truth (Valorize serves with
# it down), so the basic tier would do, but the realtime backplane prefers STANDARD_HA.

resource "google_redis_instance" "main" {
  project                 = var.project_id
  name                    = "${var.name}-redis"
  region                  = var.region
  tier                    = var.tier
  memory_size_gb          = var.memory_size_gb
  redis_version           = "REDIS_7_2"
  authorized_network      = var.network_id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  # Only keys with a TTL (cached reads) may be evicted. Tenant version counters, the epoch and
  # event sequence numbers have none: an evicted counter would start over, and versions it
  # had already given could make old cached reads current again.
  redis_configs = {
    maxmemory-policy = "volatile-lru"
  }

  depends_on = [var.private_services_connection]
}
