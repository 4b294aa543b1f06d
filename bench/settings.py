"""Production settings for the benchmarks (bench/public_pages.py, bench/staff_pages.py): hashed static files.

Not compressed: compressing every file of nhsuk-frontend takes minutes on two cores and changes nothing measured
here (wrk asks for no compression, so WhiteNoise serves the uncompressed file either way).
"""

from register.settings import *  # noqa: F403
from register.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
