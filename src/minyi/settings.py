"""Django settings, read from environment variables with safe production defaults.

DEBUG is off, SECRET_KEY is required, and hosts are restricted unless the environment
says otherwise. `make run` sets the development values explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("MINYI_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# Encryption at rest of personal data (minyi.privacy.crypto): "id:base64key" pairs, the first
# seals, the others only open (key rotation). A separate key for the keyed hash of phones.
MINYI_DATA_KEYS = os.environ.get("MINYI_DATA_KEYS", "")
MINYI_HASH_KEY = os.environ.get("MINYI_HASH_KEY", "")
if not MINYI_DATA_KEYS:
    if DEBUG:  # a development key derived from the development secret; never in production
        _dev = __import__("hashlib").sha256(b"minyi-dev-data-key|" + SECRET_KEY.encode()).digest()
        MINYI_DATA_KEYS = "dev:" + __import__("base64").b64encode(_dev).decode()
    else:
        raise ImproperlyConfigured(
            "MINYI_DATA_KEYS must be set when DEBUG is off (e.g. main:" + "<32 random bytes, base64>; "
            "`minyi rotate-keys --new-key` prints one)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "minyi.core",
    "minyi.org",
    "minyi.tickets",
    "minyi.sla",
    "minyi.supervision",
    "minyi.feedback",
    "minyi.calls",
    "minyi.privacy",
    "minyi.insights",
    "minyi.dispatch",
    "minyi.web",
    "minyi.assist",
    "minyi.generate",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "minyi.urls"
# Covering indexes (INCLUDE) are PostgreSQL's; on SQLite they are plain indexes, as intended.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
WSGI_APPLICATION = "minyi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'minyi.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two concurrent actions on one
    # ticket serialise instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP queries: PostgreSQL's JIT costs 20 ms to compile a plan it then runs in 2.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get("PG_OPTIONS", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "web:login"
# Django's backend, keeping the signed-in user and their roles per process for
# MINYI_TOKEN_CACHE_SECONDS (two queries less on every console page; ADR 12).
AUTHENTICATION_BACKENDS = ["minyi.org.backends.CachedModelBackend"]
LOGIN_REDIRECT_URL = "web:worklist"
LOGOUT_REDIRECT_URL = "web:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Sessions read from the shared cache (written through to the database): one query less on
    # every console page. Only with a shared cache: a per-process cache would keep a session
    # alive in other workers after logging out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "minyi",
        "url": REDIS_URL,
        "immediate": env_bool("HUEY_IMMEDIATE"),
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "minyi",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": env_bool("HUEY_IMMEDIATE"),
    }

# Uploads: requesters attach photos and PDF documents.
MINYI_ATTACHMENT_MAX_BYTES = int(os.environ.get("MINYI_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
MINYI_ATTACHMENT_MAX_FILES = int(os.environ.get("MINYI_ATTACHMENT_MAX_FILES", "5"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Anonymous endpoints (public submission, tracking, rating): requests per window per client.
MINYI_PUBLIC_RATE_LIMIT = int(os.environ.get("MINYI_PUBLIC_RATE_LIMIT", "30"))
MINYI_PUBLIC_RATE_WINDOW = int(os.environ.get("MINYI_PUBLIC_RATE_WINDOW", "60"))
# Trust X-Forwarded-For only behind a known reverse proxy.
MINYI_TRUST_X_FORWARDED_FOR = env_bool("MINYI_TRUST_X_FORWARDED_FOR")

# A ticket is "due soon" within its last N working days.
MINYI_DUE_SOON_WORKING_DAYS = int(os.environ.get("MINYI_DUE_SOON_WORKING_DAYS", "1"))

# How long a process keeps reference data (categories, gazetteer, time-limit rules) and API
# tokens' actors before reading them again (seconds).
MINYI_REFERENCE_CACHE_SECONDS = float(os.environ.get("MINYI_REFERENCE_CACHE_SECONDS", "60"))
MINYI_TOKEN_CACHE_SECONDS = float(os.environ.get("MINYI_TOKEN_CACHE_SECONDS", "30"))

# How often a process re-reads whether holiday notices changed (seconds).
MINYI_CALENDAR_RECHECK_SECONDS = int(os.environ.get("MINYI_CALENDAR_RECHECK_SECONDS", "60"))

# API tokens expire after this many hours.
MINYI_API_TOKEN_HOURS = int(os.environ.get("MINYI_API_TOKEN_HOURS", "12"))

# Dispatch (docs/adr/0005-dispatch.md): sign-for time, the return window, co-handling, routing.
MINYI_SIGN_OFFICE_MINUTES = int(os.environ.get("MINYI_SIGN_OFFICE_MINUTES", "60"))  # office time
MINYI_SIGN_URGENT_MINUTES = int(os.environ.get("MINYI_SIGN_URGENT_MINUTES", "30"))  # clock time
MINYI_OFFICE_HOURS = (9, 18)  # office time: 09:00-18:00 Asia/Shanghai on working days
MINYI_RETURN_WINDOW_OFFICE_HOURS = int(os.environ.get("MINYI_RETURN_WINDOW_OFFICE_HOURS", "9"))  # 1 working day
MINYI_ASSIST_INPUT_WORKING_DAYS = int(os.environ.get("MINYI_ASSIST_INPUT_WORKING_DAYS", "3"))
MINYI_AUTO_DISPATCH = env_bool("MINYI_AUTO_DISPATCH")
# Duplicates (docs/adr/0007-duplicates-merge.md): open tickets this recent, this similar (0..1),
# and within this distance when both have coordinates, are shown as possible duplicates.
MINYI_DUPLICATE_DAYS = int(os.environ.get("MINYI_DUPLICATE_DAYS", "30"))
MINYI_DUPLICATE_THRESHOLD = float(os.environ.get("MINYI_DUPLICATE_THRESHOLD", "0.3"))
MINYI_DUPLICATE_RADIUS_M = int(os.environ.get("MINYI_DUPLICATE_RADIUS_M", "300"))

# Intake suggestions: versioned model files, and how often a server looks for a new one.
MINYI_MODEL_DIR = Path(os.environ.get("MINYI_MODEL_DIR", DATA_DIR / "models"))
MINYI_MODEL_CHECK_SECONDS = float(os.environ.get("MINYI_MODEL_CHECK_SECONDS", "5"))

# Closing the loop (docs/adr/0008-feedback-loop.md).
# The requester may rate within this many working days of the reply; unrated tickets then close.
MINYI_RATING_WINDOW_WORKING_DAYS = int(os.environ.get("MINYI_RATING_WINDOW_WORKING_DAYS", "5"))
# A redo's deadline: this fraction of the original limit, at least one working day.
MINYI_REDO_DEADLINE_FRACTION = float(os.environ.get("MINYI_REDO_DEADLINE_FRACTION", "0.5"))
# The address of the citizen portal, for links in messages to requesters.
MINYI_PUBLIC_URL = os.environ.get("MINYI_PUBLIC_URL", "http://localhost:8000").rstrip("/")
# Messages to requesters. SMS goes through a provider interface (minyi.feedback.delivery);
# the default development backend writes a masked line to the log. E-mail goes through SMTP
# when EMAIL_HOST is set, to the log otherwise.
MINYI_SMS_BACKEND = os.environ.get("MINYI_SMS_BACKEND", "minyi.feedback.delivery.LogSmsBackend")
MINYI_SMS_URL = os.environ.get("MINYI_SMS_URL", "")  # for HttpSmsBackend: the provider's gateway
MINYI_SMS_TOKEN = os.environ.get("MINYI_SMS_TOKEN", "")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "12345@minyi.localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "minyi.feedback.delivery.LogEmailBackend"
)
# Quality screening of replies (minyi.supervision.quality): the thresholds, and how many days of
# replies the nightly rescan reads again.
MINYI_QUALITY_RELEVANCE_MIN = float(os.environ.get("MINYI_QUALITY_RELEVANCE_MIN", "0.05"))
MINYI_QUALITY_PASTE_SIMILARITY = float(os.environ.get("MINYI_QUALITY_PASTE_SIMILARITY", "0.8"))
MINYI_QUALITY_RESCAN_DAYS = int(os.environ.get("MINYI_QUALITY_RESCAN_DAYS", "30"))
# Findings that put a reply in the supervisors' queue; the others are shown on the reply as
# hints. An undated promise alone is a hint by default: on the teddy2020 replies it fires on
# about 39% of them, which would drown the queue (docs/quality-screening.md).
MINYI_QUALITY_FLAG_CODES = env_list("MINYI_QUALITY_FLAG_CODES", "irrelevant,perfunctory,pasted")

# Virtual numbers (云呼, docs/adr/0009-virtual-numbers.md); minyi.calls.conf documents each.
MINYI_CALL_BINDING_MINUTES = int(os.environ.get("MINYI_CALL_BINDING_MINUTES", "30"))
MINYI_SIP_GATEWAY = os.environ.get("MINYI_SIP_GATEWAY", "")
MINYI_SIP_ALLOWED_PEERS = os.environ.get("MINYI_SIP_ALLOWED_PEERS", "127.0.0.0/8,::1")
MINYI_CALL_CALLBACK_SECRET = os.environ.get("MINYI_CALL_CALLBACK_SECRET", "")
MINYI_AXB_CARRIER = os.environ.get("MINYI_AXB_CARRIER", "carrier")
MINYI_AXB_URL = os.environ.get("MINYI_AXB_URL", "")
MINYI_AXB_TOKEN = os.environ.get("MINYI_AXB_TOKEN", "")
MINYI_AXB_TIMEOUT = float(os.environ.get("MINYI_AXB_TIMEOUT", "5"))

# The requester's way back in: after this many wrong access codes for one ticket number within
# the window, the number is locked for the window (even with the right code).
MINYI_TRACK_LOCK_ATTEMPTS = int(os.environ.get("MINYI_TRACK_LOCK_ATTEMPTS", "5"))
MINYI_TRACK_LOCK_SECONDS = int(os.environ.get("MINYI_TRACK_LOCK_SECONDS", "900"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
