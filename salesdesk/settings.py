"""One settings module, driven by environment variables.

With nothing set it runs the embedded profile (SQLite, Celery eager, DEBUG off unless
asked). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "embedded-development-key-not-for-production-" + "x" * 20

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "accounts",
    "kpi",
    "reports",
    "rollups",
    "dashboard",
    "crm_sync",
    "funnel",
    "quality",
    "clients",
    "telegram_bot",
    "webhooks",
    "payments",
    "telephony",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "accounts.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # The open dashboard's unchanged poll: 204 from the session and the cache, before the
    # transaction, the user and the view below (most requests at 18:00: bench/load.py).
    "dashboard.middleware.PollShortcutMiddleware",
    # Opens the request's transaction and sets the company for row-level security;
    # everything below it, the user lookup included, runs inside that company.
    "accounts.middleware.TenantMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Lets the security audit log know who acts and from which address.
    "accounts.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A temporary password is replaced before anything else is reachable.
    "accounts.middleware.PasswordChangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salesdesk.urls"
WSGI_APPLICATION = "salesdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL is the role the app connects as: on PostgreSQL it must not own the tables,
# be a superuser or bypass row-level security. Migrations run with the owner's URL
# (DATABASE_URL=$DATABASE_OWNER_URL manage.py migrate), and grant the app role its rights.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
# No ATOMIC_REQUESTS: accounts.middleware.TenantMiddleware runs the whole request in one
# transaction already, and rolls it back when the view fails (roll_back_request); the view's
# own savepoint cost two statements on every request.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Every request is a transaction that reads, then writes (a live check's draft, the
    # report). SQLite cannot make a deferred reader wait for another writer: it answers
    # "database is locked" at once. Begun IMMEDIATE, each waits its turn for the write lock
    # (up to the timeout). WAL: a write blocks no reader, and a commit costs less.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
# Behind PgBouncer in transaction mode (DB_TRANSACTION_POOLING=1) each transaction may run on
# another server connection: nothing may outlive it there. Named prepared statements would
# (PgBouncer before 1.21 cannot route them), and so would a server-side cursor; the tenant's
# settings are transaction-local already (accounts.tenancy), so RLS holds through the pool.
DB_TRANSACTION_POOLING = envbool("DB_TRANSACTION_POOLING", False)
if DB_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and envbool("DB_PREPARED_STATEMENTS", True)
    and not DB_TRANSACTION_POOLING
):
    # Parameters bound by the server, and psycopg prepares a statement a connection has run
    # five times (Django turns that off for poolers in transaction mode; PgBouncer is not in
    # front of this app): PostgreSQL then plans a request's queries once per connection,
    # not on every request.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
# salesdesk.statements: compile each hot read once per shape and also the plain way, and
# fail when they differ (the test suite turns it on: tests/conftest.py).
STATEMENTS_CHECK = False
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "salesdesk_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    # Django's Redis cache with its client kept (salesdesk/cache.py).
    CACHES = {"default": {"BACKEND": "salesdesk.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the embedded profile runs every task in-process, right away.
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes every database connection before and after each task
# (celery#9824 reverted honouring CONN_MAX_AGE), unless it is told to reuse them this many
# times: then a worker paid a new connection (a backend, its password exchange) and the
# planning of every statement for each report's rollup, about half of PostgreSQL's work at
# 18:00. It never closes them now; salesdesk.celery closes them by Django's own rule around
# each task (close_old_connections: CONN_MAX_AGE, errors, CONN_HEALTH_CHECKS), as a request.
CELERY_DB_REUSE_MAX = 2**62
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The CRM sync on its own queue and worker (docker-compose.yml `crm-worker`): a long first
# sync or a CRM that keeps us waiting never holds up rollups and reminders.
CELERY_TASK_ROUTES = {"crm_sync.tasks.*": {"queue": "crm"}}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Each company has its own reminder time and time zone: check every five minutes.
    "end-of-day-reminders": {"task": "reports.tasks.send_due_reminders", "schedule": 300.0},
    # Each company is reconciled at 03:00 of its own clock.
    "rollups-nightly": {"task": "rollups.tasks.reconcile_nightly", "schedule": crontab(minute=5)},
    # Picks up rollups whose queueing was lost (broker down) or whose worker died.
    "rollups-sweep": {"task": "rollups.tasks.sweep_stale", "schedule": 60.0},
    # The heads' digests, at 09:00 of each company's clock.
    "dashboard-digests": {"task": "dashboard.tasks.send_due_digests", "schedule": 300.0},
    # Each active amoCRM/Bitrix24 connection pulls what its webhooks may have missed.
    "crm-pull": {"task": "crm_sync.tasks.pull_all", "schedule": 600.0},
    "payments-pull": {"task": "payments.tasks.pull_all", "schedule": crontab(minute=40)},
    # ABC/XYZ of the month just ended, on the 1st at 04:00 of each company's clock.
    "clients-classify": {"task": "clients.tasks.classify_due", "schedule": crontab(minute=20)},
    # Rhythm alerts and the as-of client KPIs of the day, at 05:00 of each company's clock.
    "clients-daily": {"task": "clients.tasks.daily_due", "schedule": crontab(minute=25)},
    # Telegram updates whose processing was lost (broker or worker down) are queued again.
    "telegram-sweep": {"task": "telegram_bot.tasks.sweep_updates", "schedule": 60.0},
    # Managers' KPI warnings and «Пора позвонить» in Telegram, from 09:00 of each company.
    "telegram-alerts": {"task": "telegram_bot.tasks.send_due_alerts", "schedule": 300.0},
    # Outgoing webhooks whose retry is due (webhooks.services.BACKOFF).
    "webhooks-sweep": {"task": "webhooks.tasks.sweep", "schedule": 60.0},
    # Managers newly at risk this month, at 06:00 of each company's clock.
    "webhooks-at-risk": {
        "task": "webhooks.tasks.managers_at_risk_due",
        "schedule": crontab(minute=30),
    },
}
# beat's tick for /healthz (accounts.health): stale, and beat reported down, after three.
HEALTH_BEAT_SECONDS = float(os.environ.get("HEALTH_BEAT_SECONDS") or 60)
CELERY_BEAT_SCHEDULE["health-beat-tick"] = {
    "task": "accounts.health.beat_tick",
    "schedule": HEALTH_BEAT_SECONDS,
    # A tick that waited longer than its interval in the queue tells nothing more.
    "options": {"expires": HEALTH_BEAT_SECONDS},
}
# How long /healthz waits for a worker's answer to its ping.
HEALTH_WORKER_TIMEOUT = float(os.environ.get("HEALTH_WORKER_TIMEOUT") or 1)
# Outgoing webhooks may go to http:// and to loopback/private addresses (tests, closed
# installations); otherwise only https:// to public addresses (webhooks.safety).
WEBHOOKS_ALLOW_PRIVATE = envbool("WEBHOOKS_ALLOW_PRIVATE", False)
TELEGRAM_API_URL = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
# A reminder or digest that failed is retried alone after this, doubling each time.
REMINDER_RETRY_SECONDS = float(os.environ.get("REMINDER_RETRY_SECONDS") or 60)

# --- CRM connections ------------------------------------------------------------------------
# Fernet keys for the stored CRM tokens, comma-separated: the first encrypts, all decrypt
# (accounts.crypto); derived from SECRET_KEY when unset, which check --deploy refuses.
CRM_CREDENTIALS_KEY = os.environ.get("CRM_CREDENTIALS_KEY", "")
# This installation's OAuth 2.0 applications (docs/architecture.md, «CRM OAuth»): with a
# pair set, an admin connects with «Подключить через amoCRM / Битрикс24». Their redirect
# URI is SITE_URL + /settings/crm/oauth/amocrm/callback/ (…/bitrix24/callback/).
AMOCRM_CLIENT_ID = os.environ.get("AMOCRM_CLIENT_ID", "")
AMOCRM_CLIENT_SECRET = os.environ.get("AMOCRM_CLIENT_SECRET", "")
# Where the admin grants access (Kommo: https://www.kommo.com/oauth), and the account domains
# a callback's `referer` may name: the code is exchanged there, with the client secret.
AMOCRM_OAUTH_URL = os.environ.get("AMOCRM_OAUTH_URL", "https://www.amocrm.ru/oauth")
AMOCRM_ACCOUNT_DOMAINS = envlist("AMOCRM_ACCOUNT_DOMAINS", "amocrm.ru,amocrm.com,kommo.com")
BITRIX24_CLIENT_ID = os.environ.get("BITRIX24_CLIENT_ID", "")
BITRIX24_CLIENT_SECRET = os.environ.get("BITRIX24_CLIENT_SECRET", "")
# Bitrix24's authorization servers; a callback's `server_domain` must name one of them.
BITRIX24_OAUTH_SERVERS = envlist(
    "BITRIX24_OAUTH_SERVERS", "https://oauth.bitrix.info,https://oauth.bitrix24.tech"
)

# --- Authentication -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.TenantModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Logins are unique per company in the user table and across companies through
# accounts.LoginName, which TenantModelBackend reads first.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
if envbool("FAST_PASSWORD_HASHER", False):
    # Tests only: a deliberately weak hasher so that creating users is not the slow part.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours: fifteen minutes
# A login is locked from one address only: a colleague behind the same NAT or proxy is not.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
# The client's address (accounts/client_ip.py), for the lockout and the audit log alike:
# the n-th X-Forwarded-For entry from the right behind n trusted proxies, else REMOTE_ADDR.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_VERBOSE = False

# Django's database sessions, read in plain SQL (accounts/sessions.py: every request does).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
CSRF_COOKIE_HTTPONLY = True

# --- HTTPS and headers (on by default whenever DEBUG is off) ------------------------------
SECURE = envbool("SECURE", not DEBUG)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", SECURE)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
# Load balancers probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Moscow"
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# plotly.js is vendored in static/plotly/ (scripts/vendor_plotly): a partial bundle with the
# trace types the pages draw, a quarter of the plotly package's full one.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND",
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = envbool("WHITENOISE_USE_FINDERS", DEBUG)

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "accounts.schema.ApiSchema",
    "EXCEPTION_HANDLER": "accounts.api_errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Salesdesk API",
    "DESCRIPTION": "KPI reporting for sales departments. Every call is scoped to your company.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # drf-spectacular's own hook first, then `?fields=` responses without `required`.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.schema.fields_are_optional",
        "accounts.schema_examples.response_examples",
    ],
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "webhooks.models.Event",
        "SalesRoleKindEnum": "accounts.models.SalesRole.Kind",
        "AbsenceKindEnum": "kpi.models.Absence.Kind",
        "KpiSourceEnum": "kpi.models.KPI.Source",
        "ReportValueSourceEnum": "reports.models.ReportValue.Source",
        "PlanPeriodEnum": "kpi.models.Plan.Period",
        "TotalPeriodEnum": "rollups.models.Period",
        "RecordSourceEnum": "crm_sync.models.Source",
        "CallDirectionEnum": "crm_sync.models.Call.Direction",
        "KpiDirectionEnum": "kpi.models.KPI.Direction",
    },
}

# --- Mail and logging ---------------------------------------------------------------------
_EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    # Development prints mail to the console; production sends it (to a local MTA by default).
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not _EMAIL_HOST
    else "django.core.mail.backends.smtp.EmailBackend",
)
_EMAIL_OPTIONS: dict[str, object] = {}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    _EMAIL_OPTIONS = {
        "host": _EMAIL_HOST or "localhost",
        "port": envint("EMAIL_PORT", 25),
        "username": os.environ.get("EMAIL_USER", ""),
        "password": os.environ.get("EMAIL_PASSWORD", ""),
        "use_tls": envbool("EMAIL_USE_TLS", False),
        "timeout": 10,
    }
elif _EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    _EMAIL_OPTIONS = {
        "file_path": os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "tmp" / "mail"))
    }
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND, "OPTIONS": _EMAIL_OPTIONS}}
# Where links in e-mails point.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "salesdesk@localhost")

# --- Sign-up: a company's first admin registers it from the login page ---------------------
# Off for an operator-only installation (companies made with `createcompany` or /operator/):
# the login page has no link and /signup/ answers 404.
SIGNUP_ENABLED = envbool("SIGNUP_ENABLED", True)
SIGNUP_LINK_HOURS = envint("SIGNUP_LINK_HOURS", 48)
# Attempts per address and per e-mail within the window (Django's cache: Redis in production).
SIGNUP_RATE_PER_IP = envint("SIGNUP_RATE_PER_IP", 10)
SIGNUP_RATE_PER_EMAIL = envint("SIGNUP_RATE_PER_EMAIL", 3)
SIGNUP_RATE_WINDOW_SECONDS = 3600

# Error tracking (Sentry's protocol: sentry.io, self-hosted Sentry, GlitchTip): on when set.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from salesdesk.error_tracking import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler masks passwords, tokens, API keys and webhook secrets (docs/security.md).
    "filters": {"secrets": {"()": "accounts.log_filters.SecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["secrets"], "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's own handlers (the console in DEBUG, mail to ADMINS) without the filter:
        # its records go to the root's filtered handler instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Managers per head of sales above which the UI warns, and the smallest healthy department.
TEAM_SPAN_MAX = 7
DEPARTMENT_MIN_MANAGERS = 3
