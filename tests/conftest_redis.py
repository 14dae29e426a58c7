"""Where the tests marked ``redis`` find Redis (``REDIS_URL``, default local db 14)."""

import os

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False
