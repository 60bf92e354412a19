"""Django's Redis cache, with one `redis.Redis` client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache operation,
and `redis.Redis.__init__` fills its table of about 200 response callbacks each time: about
57 µs an operation, which was 3 % of the web's CPU at the 18:00 peak (the poll's state
checks and the figures versions: bench/load.py --profile). The client holds no connection
of its own (the pool does, and the pool notices a fork), so one client per pool serves
every operation of the process.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
