"""Production settings for bench/public_pages.py, with the static files hashed but not compressed.

Compressing every file of nhsuk-frontend takes minutes on two cores and changes nothing measured here: wrk asks for
no compression, so WhiteNoise serves the uncompressed file either way.
"""

from register.settings import *  # noqa: F403
from register.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
