"""Superset configuration for the deployment in deploy/kubernetes.

Mounted at /app/pythonpath (on the image's PYTHONPATH) next to
text2sql_blueprint.py. Every value that differs between environments comes
from the environment, so dev and production share this file:

  ConfigMap superset-env            tuning (gunicorn, caches, feature switches)
  Secret    superset-connections    DB_HOST, DB_PORT, DB_NAME, DB_SSLMODE,
                                    REDIS_HOST, REDIS_PORT, REDIS_TLS
  Secret    superset-secrets        SUPERSET_SECRET_KEY, DB_USER, DB_PASS,
                                    REDIS_PASSWORD
  Secret    text2sql-credentials    caller-token-superset -> TEXT2SQL_SIDECAR_TOKEN

A missing required variable stops Superset at start with its name, rather
than running with a default secret or a local database.
"""

import os
from urllib.parse import quote

from celery.schedules import crontab
from flask_caching.backends.rediscache import RedisCache

from text2sql_blueprint import CSRF_EXEMPT_VIEWS as _TEXT2SQL_CSRF_EXEMPT
from text2sql_blueprint import blueprint as _text2sql_blueprint


def _required(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"superset_config: environment variable {name} must be set")
    return value


def _flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


# --- secrets and metadata database ----------------------------------------

SECRET_KEY = _required("SUPERSET_SECRET_KEY")
# During a SECRET_KEY rotation, the old key lets `superset re-encrypt-secrets`
# read what it encrypted.
if os.environ.get("SUPERSET_PREVIOUS_SECRET_KEY"):
    PREVIOUS_SECRET_KEY = os.environ["SUPERSET_PREVIOUS_SECRET_KEY"]

SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://{user}:{password}@{host}:{port}/{name}?sslmode={sslmode}".format(
    user=quote(_required("DB_USER"), safe=""),
    password=quote(_required("DB_PASS"), safe=""),
    host=_required("DB_HOST"),
    port=_int("DB_PORT", 5432),
    name=quote(_required("DB_NAME"), safe=""),
    sslmode=os.environ.get("DB_SSLMODE", "prefer"),
)
# Each gunicorn worker and Celery child holds its own pool: size it so
# (web workers x pods + worker children x pods) x (pool + overflow) stays
# under the database's connection limit.
SQLALCHEMY_ENGINE_OPTIONS = {
    "pool_pre_ping": True,
    "pool_size": _int("DB_POOL_SIZE", 5),
    "max_overflow": _int("DB_MAX_OVERFLOW", 5),
    "pool_recycle": 1800,
}

# --- Redis: caches, Celery broker and results, rate limits -----------------

_REDIS_HOST = _required("REDIS_HOST")
_REDIS_PORT = _int("REDIS_PORT", 6379)
_REDIS_PASSWORD = os.environ.get("REDIS_PASSWORD", "")
_REDIS_TLS = _flag("REDIS_TLS")


def _redis_url(db):
    scheme = "rediss" if _REDIS_TLS else "redis"
    auth = f":{quote(_REDIS_PASSWORD, safe='')}@" if _REDIS_PASSWORD else ""
    # Celery refuses a rediss:// URL without ssl_cert_reqs.
    query = "?ssl_cert_reqs=required" if _REDIS_TLS else ""
    return f"{scheme}://{auth}{_REDIS_HOST}:{_REDIS_PORT}/{db}{query}"


_CACHE_DB = _int("REDIS_CACHE_DB", 1)
CACHE_CONFIG = {
    "CACHE_TYPE": "RedisCache",
    "CACHE_DEFAULT_TIMEOUT": _int("CACHE_DEFAULT_TIMEOUT", 300),
    "CACHE_KEY_PREFIX": "superset_metadata_",
    "CACHE_REDIS_URL": _redis_url(_CACHE_DB),
}
DATA_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_KEY_PREFIX": "superset_data_", "CACHE_DEFAULT_TIMEOUT": _int("DATA_CACHE_TIMEOUT", 86400)}
FILTER_STATE_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_KEY_PREFIX": "superset_filter_", "CACHE_DEFAULT_TIMEOUT": 90 * 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {**CACHE_CONFIG, "CACHE_KEY_PREFIX": "superset_explore_", "CACHE_DEFAULT_TIMEOUT": 7 * 86400}

# Results of asynchronous SQL Lab queries, shared by web and workers.
RESULTS_BACKEND = RedisCache(
    host=_REDIS_HOST,
    port=_REDIS_PORT,
    password=_REDIS_PASSWORD or None,
    db=_int("REDIS_RESULTS_DB", 2),
    key_prefix="superset_results_",
    ssl=_REDIS_TLS,
)

# Login rate limits must be shared by every web pod to mean anything.
RATELIMIT_STORAGE_URI = _redis_url(_int("REDIS_RATELIMIT_DB", 3))

_CELERY_DB = _int("REDIS_CELERY_DB", 0)
try:
    # Superset's own Celery settings (task imports differ between versions);
    # superset.config is being imported while this file runs, and defines
    # CeleryConfig before it reads superset_config.
    from superset.config import CeleryConfig as _BaseCeleryConfig
except ImportError:
    _BaseCeleryConfig = object


class CeleryConfig(_BaseCeleryConfig):
    broker_url = _redis_url(_CELERY_DB)
    result_backend = _redis_url(_CELERY_DB)
    # Long tasks (reports, async queries): one at a time per child process.
    worker_prefetch_multiplier = 1
    task_acks_late = False
    beat_schedule = {
        "reports.scheduler": {"task": "reports.scheduler", "schedule": crontab(minute="*", hour="*")},
        "reports.prune_log": {"task": "reports.prune_log", "schedule": crontab(minute=10, hour=0)},
    }


CELERY_CONFIG = CeleryConfig

# --- web server ------------------------------------------------------------

# Behind the ingress: trust one proxy hop for scheme, host and client address.
ENABLE_PROXY_FIX = True
SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The frontend gives up slightly before gunicorn kills the worker.
SUPERSET_WEBSERVER_TIMEOUT = max(_int("GUNICORN_TIMEOUT", 120) - 10, 30)
SQLLAB_TIMEOUT = SUPERSET_WEBSERVER_TIMEOUT
ROW_LIMIT = _int("ROW_LIMIT", 50000)
# Workers fetch report data from the web pods inside the cluster; links in
# e-mails point at the public address.
WEBDRIVER_BASEURL = os.environ.get("SUPERSET_INTERNAL_URL", "http://superset:8088/")
WEBDRIVER_BASEURL_USER_FRIENDLY = os.environ.get("SUPERSET_PUBLIC_URL", WEBDRIVER_BASEURL)

FEATURE_FLAGS = {
    # Alerts and reports: the reason Celery beat runs.
    "ALERT_REPORTS": _flag("FEATURE_ALERT_REPORTS", True),
    "DASHBOARD_RBAC": _flag("FEATURE_DASHBOARD_RBAC", True),
    "ENABLE_TEMPLATE_PROCESSING": _flag("FEATURE_ENABLE_TEMPLATE_PROCESSING", False),
}

LOG_LEVEL = os.environ.get("SUPERSET_LOG_LEVEL", "INFO")

# --- text2sql --------------------------------------------------------------

BLUEPRINTS = [_text2sql_blueprint]

try:
    from superset.config import WTF_CSRF_EXEMPT_LIST as _BASE_CSRF_EXEMPT
except ImportError:
    _BASE_CSRF_EXEMPT = []
# The blueprint accepts JSON only, which a cross-site form cannot send.
WTF_CSRF_EXEMPT_LIST = [*_BASE_CSRF_EXEMPT, *_TEXT2SQL_CSRF_EXEMPT]

TEXT2SQL_SIDECAR_URL = os.environ.get("TEXT2SQL_SIDECAR_URL", "http://text2sql:8080")
# Empty in pods that never serve the endpoint (init job, workers, backups);
# the endpoint itself refuses to run without it.
TEXT2SQL_SIDECAR_TOKEN = os.environ.get("TEXT2SQL_SIDECAR_TOKEN", "")
TEXT2SQL_SCOPE_MODE = os.environ.get("TEXT2SQL_SCOPE_MODE", "user-token")
TEXT2SQL_SIDECAR_TIMEOUT = float(os.environ.get("TEXT2SQL_SIDECAR_TIMEOUT", "60"))
TEXT2SQL_ALLOWED_ROLES = os.environ.get("TEXT2SQL_ALLOWED_ROLES", "")
