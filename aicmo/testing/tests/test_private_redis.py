"""The test run's Redis is its own: another process flushing or filling the machine's Redis cannot reach it."""

import os
from urllib.parse import urlparse

import redis
from django.conf import settings


def test_the_run_uses_a_private_redis_server_not_the_machines():
    ours, exported = urlparse(settings.TEST_REDIS_URL), urlparse(os.environ["TEST_REDIS_URL"])

    assert (ours.hostname, ours.port) == (exported.hostname, exported.port)  # the run's server (db per worker)
    assert ours.port != 6379
    assert redis.Redis.from_url(settings.TEST_REDIS_URL).ping() is True


def test_the_broker_and_the_tests_share_that_server():
    assert settings.CELERY_BROKER_URL == settings.TEST_REDIS_URL
