"""The test suite's settings: fast hashing, emails kept in memory, a file-based test database.

The test database is a file (not in-memory SQLite) so that a live daphne server started by the
browser tests reads the same database as the test that filled it.
"""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env

SECRET_KEY = "test-only-not-secret-townhall"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / ".test-media"

_default = DATABASES["default"]
if _default["ENGINE"].endswith("sqlite3"):
    _default["TEST"] = {"NAME": env("TOWNHALL_TEST_DB", str(BASE_DIR / ".test-db.sqlite3"))}
else:
    _default["TEST"] = {"NAME": env("TOWNHALL_TEST_DB", f"test_{_default['NAME']}")}

# A live server started for browser tests points at the test database directly, and writes its
# emails to files the test can read.
if os.environ.get("TOWNHALL_LIVE_SERVER_DB"):
    _default["NAME"] = os.environ["TOWNHALL_LIVE_SERVER_DB"]
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["TOWNHALL_LIVE_SERVER_MAIL_DIR"]
    MIDDLEWARE = ["tests.live_server_middleware.FreshContentTypesMiddleware", *MIDDLEWARE]  # noqa: F405
    ROOT_URLCONF = "tests.live_server_urls"
