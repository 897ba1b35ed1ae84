# Ten times the paper's load: 10,000 virtual users of its mixed scenario (~10,000 req/s at one
# request per user per second). terraform apply -var-file=ten-thousand-users.tfvars
# The arithmetic, and what else must change at this size (Redis): docs/deploy.md, "Sizing".
api_cpu                  = 1
api_concurrency          = 16
api_max_instances        = 80
worker_max_instances     = 12
db_pool_max              = 8
database_tier            = "db-custom-16-65536"
database_max_connections = 800
