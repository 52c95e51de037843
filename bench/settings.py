"""Settings for the benches only: the project's settings with the bench URLconf (``bench.urls``).

The data-access floor (``bench.floor``) is routed there and nowhere in production.
"""

from mamcrawler.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
