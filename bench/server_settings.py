"""Settings of the web server the API benchmark starts: the product's production settings
(aicmo.settings.production, as docker-compose's web service runs), with the bench URLconf (bench/urls.py: the
product's URLs plus the bare baseline endpoint). Configured through the environment like production
(bench/api.py sets the secret key, hosts, database and Redis)."""

from aicmo.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
