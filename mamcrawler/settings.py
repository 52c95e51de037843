"""Django settings for MAMcrawler, read from the environment (see ``.env.example``)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from mamcrawler.env import Env, read_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
read_dotenv(BASE_DIR / ".env")
env = Env()

DJANGO_ENV = env.str("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"
# Under pytest the suite gets fast password hashing; the variable forces it either way.
TESTING = env.bool("MAMCRAWLER_TESTING", "pytest" in sys.modules)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", "")
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_ENV=production requires SECRET_KEY to be set.")
else:
    # A fixed development key keeps JWTs valid across restarts of `make run`.
    SECRET_KEY = env.str("SECRET_KEY", "dev-insecure-key-change-me-in-production-0123456789abcdef")

DEBUG = env.bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)

DATA_DIR = env.path("DATA_DIR", "data", base=BASE_DIR)
LOG_DIR = env.path("LOG_DIR", DATA_DIR / "logs", base=BASE_DIR)
LIBRARY_ROOT = env.str("LIBRARY_ROOT", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "django_q",
    "django_ratelimit",
    "mamcrawler.accounts",
    "mamcrawler.system",
    "mamcrawler.audit",
    "library",
    "downloads",
    "scheduler",
    "notifications",
]

MIDDLEWARE = [
    "mamcrawler.api.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mamcrawler.urls"
WSGI_APPLICATION = "mamcrawler.wsgi.application"
ASGI_APPLICATION = "mamcrawler.asgi.application"

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

# --- Database -------------------------------------------------------------------------------
SQLITE_BUSY_TIMEOUT = env.int("SQLITE_BUSY_TIMEOUT", 20)
DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'mamcrawler.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env.int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while the worker writes; IMMEDIATE transactions take the
        # write lock up front so concurrent writers wait (busy timeout) instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_TIMEOUT,
    }
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", "") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttle counters, locks, pacing) -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", "")
# Without Redis on SQLite, the throttle counters' own SQLite file. Tests keep them in the test
# database (rolled back with each test) unless a test points this elsewhere.
COUNTERS_SQLITE_PATH = ""
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not TESTING:
    COUNTERS_SQLITE_PATH = env.str("COUNTERS_SQLITE_PATH", str(DATA_DIR / "counters.sqlite3"))
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
        "counters": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "counters",
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "mamcrawler_cache",
        },
        # Throttle and login-attempt counters need atomic increments shared by every process:
        # on SQLite in a file of their own (see mamcrawler/system/cache.py), else in the database.
        "counters": {"BACKEND": "mamcrawler.system.cache.CounterCache", "LOCATION": COUNTERS_SQLITE_PATH},
    }
RATELIMIT_USE_CACHE = "counters"
# django-ratelimit only knows its own list of backends; ours increments atomically (see system/cache.py).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
LOGIN_ATTEMPTS_RATE = env.str("LOGIN_ATTEMPTS_RATE", "5/m")

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing is deliberately slow in production; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
API_KEY_LAST_USED_INTERVAL = env.int("API_KEY_LAST_USED_INTERVAL", 60)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", DATA_DIR / "static", base=BASE_DIR)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production) ------------------------------------------------------------------
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto (and strips it from clients).
if env.bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Container and load-balancer health probes speak plain HTTP on the inside.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
X_FRAME_OPTIONS = "DENY"

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mamcrawler.api.authentication.ApiKeyAuthentication",
        "mamcrawler.api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["mamcrawler.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "mamcrawler.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "mamcrawler.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
    ],
    # Ordering is declared per resource with django-filter's OrderingFilter (an allow-list with
    # public names such as ``completeness``), so DRF's OrderingFilter is deliberately absent.
    "DEFAULT_RENDERER_CLASSES": [
        "mamcrawler.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mamcrawler.api.exception_handlers.api_exception_handler",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Throttle tiers (SPEC §6.3); each can be overridden, e.g. THROTTLE_RATE_SEARCH=40/minute.
_DEFAULT_RATES = {
    "public": "100/minute",
    "read": "60/minute",
    "write": "60/minute",
    "download": "20/hour",
    "metadata": "30/minute",
    "search": "20/minute",
    "admin": "1000/minute",
    "upload": "5/minute",
}
if TESTING:
    # Tests that are not about throttling must not trip over it; throttle tests set their own rates.
    _DEFAULT_RATES = dict.fromkeys(_DEFAULT_RATES, "100000/minute")
THROTTLE_RATES = {tier: env.str(f"THROTTLE_RATE_{tier.upper()}", rate) for tier, rate in _DEFAULT_RATES.items()}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MAMcrawler API",
    "DESCRIPTION": "Run an audiobook collection: library, gaps, MyAnonamouse acquisition, jobs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        }
    },
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mamcrawler.api.schema.add_error_responses",
    ],
}

# --- django-q2 ------------------------------------------------------------------------------
Q_CLUSTER = {
    "name": "mamcrawler",
    "workers": env.int("Q_WORKERS", 2),
    "timeout": env.int("Q_TIMEOUT", 3600),
    "retry": env.int("Q_RETRY", 3900),
    "catch_up": False,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 500,
    "label": "Jobs (django-q2)",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Unit tests run tasks inline; the integration test starts a real qcluster.
Q_CLUSTER["sync"] = env.bool("Q_SYNC", TESTING)

# --- Jobs ---------------------------------------------------------------------------------
JOB_HISTORY_DAYS = env.int("JOB_HISTORY_DAYS", 90)
# SCHEDULE_<JOB>="0 3 * * *" | "6h" | "off" overrides a job's default schedule.
JOB_SCHEDULE_OVERRIDES = {
    key.removeprefix("SCHEDULE_").lower(): value.strip()
    for key, value in env.environ.items()
    if key.startswith("SCHEDULE_") and value.strip()
}
# A run still "running" this long after its job's timeout belonged to a dead worker.
JOB_STALE_GRACE_SECONDS = env.int("JOB_STALE_GRACE_SECONDS", 60)

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", "INFO")
LOG_FORMAT = env.str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mamcrawler.api.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "mamcrawler.api.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler would print every request warning a second time.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- System (SPEC §4 System): application log file, integration checks --------------------
# The application log, also read by /api/v1/system/logs/; blank = console only. Rotate it with
# logrotate: WatchedFileHandler reopens the file when it is moved away.
LOG_FILE = env.str("LOG_FILE", "" if TESTING else str(LOG_DIR / "mamcrawler.log"), blank=True).strip()
if LOG_FILE:
    _log_file = Path(LOG_FILE).expanduser()
    LOG_FILE = str(_log_file if _log_file.is_absolute() else (BASE_DIR / _log_file).resolve())
    Path(LOG_FILE).parent.mkdir(parents=True, exist_ok=True)
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "formatter": LOG_FORMAT,
        "filters": ["request_id"],
        "encoding": "utf-8",
    }
    LOGGING["root"]["handlers"].append("file")
    LOGGING["loggers"]["django"]["handlers"].append("file")
# Seconds each probe of /api/v1/system/integrations/ may take (they run concurrently).
INTEGRATION_CHECK_TIMEOUT = env.float("INTEGRATION_CHECK_TIMEOUT", 5.0)
# --- end System -----------------------------------------------------------------------------

# --- Product settings -----------------------------------------------------------------------
MAMCRAWLER_ADMIN_USERNAME = env.str("MAMCRAWLER_ADMIN_USERNAME", "admin")
MAMCRAWLER_ADMIN_PASSWORD = env.str("MAMCRAWLER_ADMIN_PASSWORD", "")
DUPLICATE_TITLE_THRESHOLD = env.int("DUPLICATE_TITLE_THRESHOLD", 90)
INCOMPLETE_THRESHOLD = env.int("INCOMPLETE_THRESHOLD", 80)

# --- Gap analysis (SPEC §7.3) ----------------------------------------------------------------
GAPS_IGNORE_FRACTIONAL = env.bool("GAPS_IGNORE_FRACTIONAL", False)  # novellas at x.5 are not gaps
GAPS_SKIP_UNRELEASED = env.bool("GAPS_SKIP_UNRELEASED", True)  # a future publication date is not a gap
GAPS_INTEGER_HOLES = env.bool("GAPS_INTEGER_HOLES", True)  # own 1, 2, 4 → 3 is a gap
GAPS_LANGUAGES = env.list("GAPS_LANGUAGES", [])  # e.g. "en,de"; empty = any language
GAPS_RECHECK_DAYS = env.int("GAPS_RECHECK_DAYS", 7)  # unchanged series/authors are re-analysed after this
AUTHOR_TITLE_MATCH = env.int("AUTHOR_TITLE_MATCH", 90)  # rapidfuzz score for "the same title"

# --- Metadata correction (SPEC §7.2) --------------------------------------------------------
METADATA_MATCH_THRESHOLD = env.int("METADATA_MATCH_THRESHOLD", 85)  # title and author similarity (0-100)
METADATA_REFRESH_LIMIT = env.int("METADATA_REFRESH_LIMIT", 200)  # books per metadata_refresh run
METADATA_RUNTIME_TOLERANCE = env.float("METADATA_RUNTIME_TOLERANCE", 0.05)  # runtimes may differ this much

# --- Integrations (SPEC §2); a blank URL or credential means "not configured" ----------------
MAM_BASE_URL = env.str("MAM_BASE_URL", "https://www.myanonamouse.net")
MAM_SESSION_ID = env.str("MAM_SESSION_ID", "")
QBITTORRENT_URL = env.str("QBITTORRENT_URL", "")
ABS_URL = env.str("ABS_URL", "")
ABS_API_KEY = env.str("ABS_API_KEY", "")
ABS_TIMEOUT = env.float("ABS_TIMEOUT", 15.0)
ABS_RETRIES = env.int("ABS_RETRIES", 3)
ABS_PAGE_SIZE = env.int("ABS_PAGE_SIZE", 100)
ABS_PUSH_METADATA = env.bool("ABS_PUSH_METADATA", False)

# --- Metadata providers (SPEC §7.1); a blank URL (or Hardcover without a token) is skipped --------
METADATA_PROVIDER_NAMES = ("audnexus", "hardcover", "openlibrary", "googlebooks")
METADATA_PROVIDERS = [name.lower() for name in env.list("METADATA_PROVIDERS", list(METADATA_PROVIDER_NAMES))]
if unknown := sorted(set(METADATA_PROVIDERS) - set(METADATA_PROVIDER_NAMES)):
    raise ImproperlyConfigured(
        f"METADATA_PROVIDERS: unknown provider(s) {', '.join(unknown)}; known: {', '.join(METADATA_PROVIDER_NAMES)}."
    )
OPENLIBRARY_URL = env.str("OPENLIBRARY_URL", "https://openlibrary.org")
GOOGLE_BOOKS_URL = env.str("GOOGLE_BOOKS_URL", "https://www.googleapis.com")
GOOGLE_BOOKS_API_KEY = env.str("GOOGLE_BOOKS_API_KEY", "")
HARDCOVER_URL = env.str("HARDCOVER_URL", "https://api.hardcover.app/v1/graphql")
HARDCOVER_TOKEN = env.str("HARDCOVER_TOKEN", "")
AUDNEXUS_URL = env.str("AUDNEXUS_URL", "https://api.audnex.us")
PROVIDER_TIMEOUT = env.float("PROVIDER_TIMEOUT", 10.0)
PROVIDER_RETRIES = env.int("PROVIDER_RETRIES", 2)
PROVIDER_RETRY_BASE_SECONDS = env.float("PROVIDER_RETRY_BASE_SECONDS", 0.5)
PROVIDER_CACHE_DAYS = env.int("PROVIDER_CACHE_DAYS", 30)
CIRCUIT_FAILURES = env.int("CIRCUIT_FAILURES", 5)
CIRCUIT_COOLDOWN = env.int("CIRCUIT_COOLDOWN", 300)

# --- Import lists (SPEC §9): Goodreads shelf RSS, Hardcover "want to read" → wishlist gaps --------
# The feed URL comes from here only (never from a request); HARDCOVER_TOKEN and HARDCOVER_URL are above.
GOODREADS_RSS_URL = env.str("GOODREADS_RSS_URL", "")
ABS_PUSH_PROGRESS = env.bool("ABS_PUSH_PROGRESS", False)  # mark books read on Goodreads finished in ABS
IMPORT_LISTS_TIMEOUT = env.float("IMPORT_LISTS_TIMEOUT", 20.0)  # seconds per request to a list source
# --- end Import lists -----------------------------------------------------------------------------

# --- Backup (issue 9): the daily backup job's archives ------------------------------------------
BACKUP_DIR = env.path("BACKUP_DIR", DATA_DIR / "backups", base=BASE_DIR)
BACKUP_KEEP = env.int("BACKUP_KEEP", 7)  # newest archives kept in BACKUP_DIR; 0 keeps all
if BACKUP_KEEP < 0:
    raise ImproperlyConfigured("BACKUP_KEEP must be 0 (keep all) or more.")

# --- Notifications (SPEC §10.1) -------------------------------------------------------------
# Webhooks (and json:// form:// xml:// Apprise URLs) to loopback or private addresses are
# refused unless this is on; link-local addresses (169.254.0.0/16, fe80::/10) always are.
NOTIFY_ALLOW_PRIVATE = env.bool("NOTIFY_ALLOW_PRIVATE", False)
# Attempts per delivery; retries wait NOTIFY_RETRY_BASE_SECONDS x 2^(attempt - 1).
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_RETRY_BASE_SECONDS = env.int("NOTIFY_RETRY_BASE_SECONDS", 30)
# Seconds a webhook request may take.
NOTIFY_TIMEOUT = env.float("NOTIFY_TIMEOUT", 10.0)
# --- end Notifications ----------------------------------------------------------------------

# --- MAM acquisition (SPEC §8.1, §8.2, §8.4) --------------------------------------------------
MAM_MIN_INTERVAL = env.float("MAM_MIN_INTERVAL", 2.0)  # seconds between MAM requests, across processes
MAM_TIMEOUT = env.float("MAM_TIMEOUT", 15.0)
MAM_RETRIES = env.int("MAM_RETRIES", 3)
MAM_LANGUAGES = env.list("MAM_LANGUAGES", ["1"])  # MAM language ids; 1 = English
MAM_MIN_SEEDERS = env.int("MAM_MIN_SEEDERS", 1)
MATCH_THRESHOLD = env.int("MATCH_THRESHOLD", 70)  # candidates scoring below this are rejected
MIN_RATIO = env.float("MIN_RATIO", 1.5)  # ratio a paid download must leave intact
UNSAT_MARGIN = env.int("UNSAT_MARGIN", 2)  # unsatisfied torrents kept free below the limit
DAILY_DOWNLOAD_BUDGET = env.int("DAILY_DOWNLOAD_BUDGET", 10)  # paid downloads per day (a count)
USE_WEDGES = env.bool("USE_WEDGES", False)
PREFERRED_FORMATS = [fmt.lower() for fmt in env.list("PREFERRED_FORMATS", ["m4b", "mp3", "flac"])]
MAM_TRACKER_URL = env.str("MAM_TRACKER_URL", "https://t.myanonamouse.net")  # host of dynamicSeedbox.php
MAM_DYNAMIC_SEEDBOX = env.bool("MAM_DYNAMIC_SEEDBOX", False)  # register this IP for announces, hourly at most
MAM_ACCOUNT_MAX_AGE = env.int("MAM_ACCOUNT_MAX_AGE", 3600)  # seconds; an older snapshot is refreshed before queuing

# --- acquire_wanted (SPEC §10) ---------------------------------------------------------------
ACQUIRE_MAX_DOWNLOADS = env.int("ACQUIRE_MAX_DOWNLOADS", 5)  # downloads queued per run at most
ACQUIRE_MAX_SEARCHES = env.int("ACQUIRE_MAX_SEARCHES", 25)  # MAM searches per run at most
ACQUIRE_MONITORED = env.bool("ACQUIRE_MONITORED", True)  # gaps of monitored series/authors count as wanted

# --- qBittorrent (SPEC §8.3); QBITTORRENT_URL is above. Blank credentials use the localhost bypass ----
QBITTORRENT_USERNAME = env.str("QBITTORRENT_USERNAME", "")
QBITTORRENT_PASSWORD = env.str("QBITTORRENT_PASSWORD", "")
QBITTORRENT_CATEGORY = env.str("QBITTORRENT_CATEGORY", "audiobooks")
QBITTORRENT_TIMEOUT = env.float("QBITTORRENT_TIMEOUT", 10.0)
QBITTORRENT_SAVE_PATH = env.str("QBITTORRENT_SAVE_PATH", "")  # blank = qBittorrent's (or the category's) default

# --- Downloads (SPEC §8.5) ----------------------------------------------------------------------
DOWNLOAD_MAX_RETRIES = env.int("DOWNLOAD_MAX_RETRIES", 3)  # failures retried before a download is abandoned
RETRY_BASE_SECONDS = env.int("RETRY_BASE_SECONDS", 900)  # first retry delay; doubles per retry, ±10 % jitter

# --- Import of completed downloads (SPEC §8.6) ------------------------------------------------
# The client's view of a path → ours: "/downloads=/data/downloads,/mnt/t=/srv/t"; longest prefix wins.
DOWNLOAD_PATH_MAP = env.mapping("DOWNLOAD_PATH_MAP", {})
# Folder of an imported book under LIBRARY_ROOT; "{author}/{title}" is used for books without a series.
LIBRARY_TEMPLATE = env.str("LIBRARY_TEMPLATE", "{author}/{series}/{position} - {title}")
