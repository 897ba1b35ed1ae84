"""Redis adapters: the cache (cache-aside reads) and the pub/sub event bus."""

from valorize_adapters.redis.cache import RedisCache
from valorize_adapters.redis.client import redis_client
from valorize_adapters.redis.pubsub import RedisEventBus, RedisSubscriber

__all__ = ["RedisCache", "RedisEventBus", "RedisSubscriber", "redis_client"]
