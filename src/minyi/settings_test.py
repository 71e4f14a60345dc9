"""Settings for the test suite: the production settings with test-only defaults."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("MINYI_DATA_DIR", tempfile.mkdtemp(prefix="minyi-test-"))
os.environ.setdefault("HUEY_IMMEDIATE", "1")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "*")
# Test-only keys (32 bytes each, base64): "t2" seals, "t1" only opens.
os.environ.setdefault(
    "MINYI_DATA_KEYS",
    "t2:dGVzdC1vbmx5LWRhdGEta2V5LW51bWJlci10d28hISE=,t1:dGVzdC1vbmx5LWRhdGEta2V5LW51bWJlci1vbmUhISE=",
)
os.environ.setdefault("MINYI_HASH_KEY", "dGVzdC1vbmx5LWhhc2gta2V5LWZvci1waG9uZXMhISE=")

from minyi.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MINYI_PUBLIC_RATE_LIMIT = 1000
# Each test has its own database state: never reuse a calendar read in another test.
MINYI_CALENDAR_RECHECK_SECONDS = 0
MINYI_REFERENCE_CACHE_SECONDS = 0
MINYI_TOKEN_CACHE_SECONDS = 0
# Tests serve static files from the apps' folders (no collectstatic, no manifest).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
