"""kubelab settings, driven by the environment.

Unset means the embedded default: a SQLite file in the checkout, the in-memory channel layer
and the reconciler inside the server process. Scale-out is configuration only:
DATABASE_URL=postgres://..., REDIS_URL=redis://..., RECONCILER=worker.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def envbool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envchoice(name, default, choices):
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


SECRET_KEY = env("SECRET_KEY", "kubelab-local-development-only")
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "*").split(",") if h]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "cluster",
    "dashboard",
    "lessons",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # /api... at the root (kubectl get --raw) served as the cluster its token names.
    "cluster.api.auth.RootApiMiddleware",
    # Bearer tokens on /clusters/{c}/api, /apis, /version, /openapi (401 Status otherwise).
    "cluster.api.auth.ApiAuthenticationMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'kubelab.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the board read while the reconciler writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on busy_timeout instead of failing on a lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# "inprocess": the server process runs the reconciler (make run). "worker": only
# `manage.py reconcile` processes do, splitting clusters between them by lease.
RECONCILER = envchoice("RECONCILER", "inprocess", ("inprocess", "worker"))
# Wall seconds between reconciler ticks.
TICK_INTERVAL = float(env("TICK_INTERVAL", "0.25"))
# A cluster nobody has looked at for this long sleeps (its clock pauses) until someone does;
# 0: never (cluster.activity).
IDLE_PAUSE_SECONDS = envint("IDLE_PAUSE_SECONDS", 900)

# Changes kept per cluster for watches and reconnecting boards to resume from.
CHANGE_LOG_KEEP = envint("CHANGE_LOG_KEEP", 200_000)

HOST = env("HOST", "127.0.0.1")
PORT = envint("PORT", 8000)
# The HTTPS port `manage.py serve` also listens on (the API server's usual 6443): kubectl
# sends a cluster's bearer token only over TLS.
HTTPS_PORT = envint("HTTPS_PORT", 6443)
# The host kubeconfigs name (and the server certificate covers): HOST unless HOST is a
# wildcard bind address, which no client can connect to.
API_HOST = env("API_HOST") or (HOST if HOST not in ("0.0.0.0", "::", "") else "127.0.0.1")
# Where kubelab's CA and server certificate are kept (made on first run, reused after).
TLS_DIR = Path(env("TLS_DIR") or BASE_DIR / "var" / "tls")
# Local mode (`make run`): plain-HTTP API requests from loopback need no token, so curl and
# the board work as they are. A multi-user deployment sets it false: then every API request
# carries a cluster's token, or comes from that cluster's board (cluster.api.auth).
API_ANONYMOUS_LOOPBACK = envbool("API_ANONYMOUS_LOOPBACK", True)

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# Directories of extra lesson files (NN-slug.yaml), beside lessons/content: a teacher's own.
LESSON_DIRS = [d for d in (env("KUBELAB_LESSON_DIRS") or "").split(":") if d]
