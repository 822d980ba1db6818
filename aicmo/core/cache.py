"""The default cache's backend: Django's Redis cache, with one client kept per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every operation (its table of response callbacks: about
100 µs of CPU, more than the round trip itself on loopback). A client is thread-safe, so one per pool serves every
thread; its connections announce the library's version without reading package metadata (redis_clients.py)."""

from django.core.cache.backends import redis as django_redis

from .redis_clients import DRIVER


class KeptClient(django_redis.RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, driver_info=DRIVER, **options)
        self._clients = {}  # pool index -> its client (a race builds one twice, harmlessly)

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClient
