"""Fangdiao settings: one file, driven by the environment (see README "Configuration").

Embedded default (nothing set): SQLite in WAL mode, the in-memory channel layer, tasks run
immediately. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to the Redis channel layer and
cache, ``TASKS_BACKEND=database`` to a worker queue. With ``DEBUG`` off the process refuses to start
without a real ``SECRET_KEY``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import TypedDict

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 - refused when DEBUG is off
SECRET_KEY = env_str("SECRET_KEY") or _DEV_SECRET_KEY
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production (DEBUG off) refuses the development key: "
        "set SECRET_KEY to a long random string, or DEBUG=1 on a developer machine."
    )
if not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY is too short for production: use at least 32 random characters.")
# Django's own deployment check asks for at least 5 different characters: "aaaa…ab" is long, not random.
if not DEBUG and len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY has too few different characters: use a long random string.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name this server's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_fsm",
    "django_tasks",
    "django_tasks_db",
    "core",
    "accounts",
    "townships",
    "referrals",
    "mediation",
    "notifications",
    "messaging",
    "portal",
    # The top layer: the home page and each role's workbench, which may use every app above.
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Restarts the idle clock on the person's own requests, not on an open page's live refreshes.
    "accounts.middleware.IdleSessionMiddleware",
    # Before any view reads a parameter: NUL bytes and lone surrogates never reach the database.
    "core.middleware.RejectUnstorableTextMiddleware",
    "config.middleware.LoginRequiredExceptApiMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idempotency-Key (API) and form_token (pages): a repeated creating POST gets the first answer.
    "core.middleware.IdempotencyMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DomainErrorMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "townships.context_processors.current_roles",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

FORM_RENDERER = "config.forms.FormRenderer"

# --- Database -------------------------------------------------------------------------------
# IMMEDIATE: a write transaction takes the lock when it begins, so two workflow steps on the same
# referral serialise instead of failing with "database is locked" halfway through. WAL lets readers
# continue while one writer works. The same for the default file and a sqlite:// DATABASE_URL.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    # Health checks: with the pool, a connection is checked before it is lent out, so after a database
    # restart the dead pooled connections are replaced instead of each failing one request first.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    # A pool instead of persistent connections: under ASGI every request may run in another
    # thread, so CONN_MAX_AGE would open one connection per thread and never reuse it.
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # JIT compiling pays off for hour-long analytics, not for our short queries: it cost ~2 s on
        # a county's statistics at 10⁶ referrals. More work_mem keeps their grouping in memory
        # instead of sorting on disk (docs/statistics.md).
        DATABASES["default"]["OPTIONS"] = {"options": f"-c jit=off -c work_mem={env_str('DB_WORK_MEM', '32MB')}"}
        if env_bool("DB_POOL", True):
            DATABASES["default"]["OPTIONS"]["pool"] = {
                "min_size": 1,
                "max_size": env_int("DB_POOL_MAX", 10, minimum=1),
                "timeout": 10,
            }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The statistics index carries extra columns on PostgreSQL (index-only scans); SQLite builds it
# without them, which is all it can do and all it needs at its scale.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Redis: channel layer and cache -----------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # A worker's sockets share one receive loop that blocks in BZPOPMIN for
                        # 5 s (channels-redis's brpop_timeout). redis-py 8 reads with a 5 s socket
                        # timeout by default, so on a quiet server the read gives up just before
                        # Redis answers: every 5 s one consumer per worker died with TimeoutError
                        # (its socket closed 1006), and a message popped in that instant was lost
                        # with the dropped connection. The read must outlast the block.
                        "socket_timeout": 10,
                        # Redis away must cost a commit hook or a connecting socket little.
                        "socket_connect_timeout": 2,
                        # redis-py 8 refuses the 101st concurrent command at once
                        # (MaxConnectionsError) instead of waiting: hundreds of sockets joining or
                        # leaving their groups together (a restart, a deploy) would hit it.
                        "max_connections": 1000,
                    }
                ],
                "prefix": env_str("REDIS_PREFIX", "fangdiao"),
                # Counted per Redis key, and all the sockets of one worker process share a key:
                # the default of 100 drops messages (logged at INFO only) as soon as more than 100
                # of a worker's sockets are owed one at the same moment.
                "capacity": 10_000,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("REDIS_PREFIX", "fangdiao"),
            # Short timeouts: a Redis that has gone away costs a request a second at most, never a hang.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Batched fan-out and membership checks through channels-redis internals (notifications/redis_layer.py),
# checked against the pinned version at start-up; off: plain group_send / group_add.
NOTIFY_REDIS_INTERNALS = env_bool("NOTIFY_REDIS_INTERNALS", True)

# --- Background tasks ------------------------------------------------------------------------
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "dummy": "django_tasks.backends.dummy.DummyBackend",
}
TASKS_BACKEND = env_str("TASKS_BACKEND", "immediate")
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}; got {TASKS_BACKEND!r}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
# In the embedded mode the server process itself runs the reminder sweep every minute, because
# only a process holding the sockets can reach them through the in-memory channel layer.
REMINDER_LOOP_IN_SERVER = env_bool("REMINDER_LOOP_IN_SERVER", not REDIS_URL)
REMINDER_INTERVAL_SECONDS = env_int("REMINDER_INTERVAL_SECONDS", 60, minimum=1)
# How the roster pages run an import and tell its uploader (townships may not import notifications).
ROSTER_IMPORT_RUNNER = "config.roster_imports.run"

# --- Messages to the parties (messaging/, docs/sms.md) -----------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "console")  # console, http, tencent, or a dotted path to a backend class
if SMS_BACKEND not in ("console", "http", "tencent") and "." not in SMS_BACKEND:
    raise ImproperlyConfigured(f"SMS_BACKEND must be console, http, tencent or a dotted path; got {SMS_BACKEND!r}.")
SMS_CONSOLE_FILE = env_str("SMS_CONSOLE_FILE", str(VAR_DIR / "sms.log"))
SMS_HTTP_URL = env_url("SMS_HTTP_URL", schemes=("http", "https"))
if SMS_BACKEND == "http" and not SMS_HTTP_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL (the gateway's address).")
SMS_HTTP_USER = env_str("SMS_HTTP_USER", "")
SMS_HTTP_PASSWORD = env_str("SMS_HTTP_PASSWORD", "")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN", "")
SMS_HTTP_TEMPLATE_ID = env_str("SMS_HTTP_TEMPLATE_ID", "")
SMS_HTTP_TIMEOUT = env_int("SMS_HTTP_TIMEOUT", 5, minimum=1)
# Tencent Cloud SMS (messaging/tencent.py): the account, the approved signature, and which approved
# template each message is sent as; the endpoint may be a proxy the intranet reaches it through.
SMS_TENCENT_SECRET_ID = env_str("SMS_TENCENT_SECRET_ID", "")
SMS_TENCENT_SECRET_KEY = env_str("SMS_TENCENT_SECRET_KEY", "")
SMS_TENCENT_SDK_APP_ID = env_str("SMS_TENCENT_SDK_APP_ID", "")
SMS_TENCENT_SIGN_NAME = env_str("SMS_TENCENT_SIGN_NAME", "")
SMS_TENCENT_REGION = env_str("SMS_TENCENT_REGION", "ap-guangzhou")
SMS_TENCENT_ENDPOINT = env_url("SMS_TENCENT_ENDPOINT", schemes=("http", "https")) or "https://sms.tencentcloudapi.com"
try:
    SMS_TENCENT_TEMPLATES = json.loads(env_str("SMS_TENCENT_TEMPLATES", "{}"))
except ValueError as e:
    raise ImproperlyConfigured(f"SMS_TENCENT_TEMPLATES is not JSON: {e}") from None
if SMS_BACKEND == "tencent" and not all(
    (SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_SDK_APP_ID, SMS_TENCENT_SIGN_NAME)
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=tencent needs SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY, SMS_TENCENT_SDK_APP_ID "
        "and SMS_TENCENT_SIGN_NAME."
    )
# The platform's callbacks (delivery receipts, replies) present it as a bearer token; empty: no callbacks.
SMS_CALLBACK_TOKEN = env_str("SMS_CALLBACK_TOKEN", "")
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 8, minimum=1)
SMS_RETRY_BASE_SECONDS = env_int("SMS_RETRY_BASE_SECONDS", 60, minimum=1)
SMS_RETRY_MAX_SECONDS = env_int("SMS_RETRY_MAX_SECONDS", 3600, minimum=1)
SMS_CLAIM_SECONDS = env_int("SMS_CLAIM_SECONDS", 300, minimum=30)
SMS_BATCH_SIZE = env_int("SMS_BATCH_SIZE", 100, minimum=1)
SMS_DAILY_CAP = env_int("SMS_DAILY_CAP", 5, minimum=1)
SMS_QUIET_HOURS = env_str("SMS_QUIET_HOURS", "21:00-08:00")  # local time; empty: none
if SMS_QUIET_HOURS and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", SMS_QUIET_HOURS):
    raise ImproperlyConfigured(f"SMS_QUIET_HOURS={SMS_QUIET_HOURS!r} is not HH:MM-HH:MM (e.g. 21:00-08:00).")
# The parties' personal links (docs/sms.md): the address the public reaches this server at (the
# gateway in front of it, which passes only /p/), and how long a link lives.
PUBLIC_BASE_URL = (env_url("PUBLIC_BASE_URL", schemes=("http", "https")) or "http://127.0.0.1:8000").rstrip("/")
PARTY_LINK_DAYS = env_int("PARTY_LINK_DAYS", 60, minimum=1)
SMS_LANGUAGE = "zh-hans"  # the parties read Chinese, whatever language the staff's pages are in

# --- Authentication and permissions ----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is locked for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The address of the person, not of the proxy in front of the application (core/net.py): with the
# proxy's address every user shares one, and a stranger's wrong passwords would lock the victim out.
AXES_CLIENT_IP_CALLABLE = "core.net.client_address"
# Addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed (docs/deploy.md).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network.") from None
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_MONKEY_PATCH_USER = False
GUARDIAN_MONKEY_PATCH_GROUP = False
# Guardian's anonymous user would add a row and a query to every permission check; nobody
# anonymous may see anything here.
ANONYMOUS_USER_NAME = None

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from finders but wants the folder
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
# Look files up per request when serving from the finders, rather than walking every app's static
# folders when the middleware starts: WhiteNoise's own default, but read here once instead of from
# settings.DEBUG at each start, which the test runner turns off (then each test client's middleware
# walked them again: ~25 ms a client, a third of the suite's time).
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Attachments are served only through views that check access; there is no MEDIA_URL on purpose.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF takes the first class's WWW-Authenticate header, and with one an anonymous
    # call answers 401 (as docs/api.md says) instead of 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "访调对接 Fangdiao API",
    "DESCRIPTION": "Petition-to-mediation referrals (docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its browsable docs describe every endpoint and parameter: in production only
    # for people who are logged in (the development server keeps them open for tools).
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if DEBUG else "rest_framework.permissions.IsAuthenticated"
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.document_unsupported_media_type",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PartyKindEnum": "referrals.models.Party.Kind",
        "OrganisationKindEnum": "townships.models.Organisation.Kind",
        "SupervisionKindEnum": "mediation.models.SupervisionOrder.Kind",
        "DossierItemEnum": "mediation.models.DossierItem",
        "ConsentMethodEnum": "referrals.models.Party.ConsentMethod",
        "StaffConsentMethodEnum": "referrals.models.Party.STAFF_CONSENT_CHOICES",
        "FollowUpMethodEnum": "mediation.models.FollowUp.Method",
        "DeadlineStatusEnum": "referrals.models.DeadlineStatus",
        "LeaderLevelEnum": "referrals.models.LeaderCase.Level",
        "AssignmentLevelEnum": "referrals.models.Assignment.Level",
        "LawyerKindEnum": "referrals.models.Lawyer.Kind",
        "LinkKindEnum": "referrals.models.ReferralLink.Kind",
        "TierEnum": "referrals.models.Tier",
        "AppealKindEnum": "referrals.models.Appeal.Kind",
        "AppealOutcomeEnum": "referrals.models.Appeal.Outcome",
    },
}

# --- Sessions and security -------------------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 2 * 3600, minimum=300)
# Inactivity expiry: accounts.middleware.IdleSessionMiddleware restarts the clock on every request
# the person makes — not on the refreshes an open page makes by itself after a push.
SESSION_SAVE_EVERY_REQUEST = False
# API tokens last this many days after their last use (accounts/tokens.py).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Email (optional notification channel) ---------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "fangdiao@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}


# --- Domain clocks (docs/domain.md#workflow). Each is a default an administrator may change. ------------
class FangdiaoSettings(TypedDict):
    """The keys of ``FANGDIAO`` and their types, for the type checker (``settings.FANGDIAO["..."]``)."""

    REFER_DAYS: int
    ACCEPT_WORKING_DAYS: int
    MEDIATE_DAYS: int
    EXTENSION_MAX_DAYS: int
    EXTENSIONS_MAX_TOTAL_DAYS: int
    REVIEW_WORKING_DAYS: int
    CORRECTION_WORKING_DAYS: int
    PETITION_ACCEPT_DAYS: int
    PETITION_DAYS: int
    PETITION_EXTENSION_MAX_DAYS: int
    FOLLOWUP_DAYS: int
    CONFIRMATION_DAYS: int
    DUE_SOON_WORKING_DAYS: int
    DUE_SOON_DAYS: int
    CONFIRMATION_REMIND_DAYS: int
    NUMBER_PREFIX_DEFAULT: str
    MAX_PARTIES: int
    REPEAT_WINDOW_MONTHS: int
    REPEAT_HINTS_PER_DAY: int
    ESCALATE_AFTER_FAILED_ROUNDS: int
    ESCALATE_AFTER_OVERDUE_DAYS: int
    APPEAL_REQUEST_DAYS: int
    APPEAL_ANSWER_DAYS: int


FANGDIAO: FangdiaoSettings = {
    "REFER_DAYS": env_int("CLOCK_REFER_DAYS", 15, minimum=1),
    "ACCEPT_WORKING_DAYS": env_int("CLOCK_ACCEPT_WORKING_DAYS", 3, minimum=1),
    "MEDIATE_DAYS": env_int("CLOCK_MEDIATE_DAYS", 30, minimum=1),
    "EXTENSION_MAX_DAYS": env_int("CLOCK_EXTENSION_MAX_DAYS", 30, minimum=1),
    "EXTENSIONS_MAX_TOTAL_DAYS": env_int("CLOCK_EXTENSIONS_MAX_TOTAL_DAYS", 60, minimum=1),
    "REVIEW_WORKING_DAYS": env_int("CLOCK_REVIEW_WORKING_DAYS", 5, minimum=1),
    # 退回补正: the committee sends the dossier papers the reviewer asked for within this many working days.
    "CORRECTION_WORKING_DAYS": env_int("CLOCK_CORRECTION_WORKING_DAYS", 3, minimum=1),
    # The petition's own clock (信访工作条例 2022): the office decides within 15 days of receipt whether it
    # accepts, then handles it within 60 days of acceptance, extendable once by at most 30 days (Art. 34).
    "PETITION_ACCEPT_DAYS": env_int("CLOCK_PETITION_ACCEPT_DAYS", 15, minimum=1),
    "PETITION_DAYS": env_int("CLOCK_PETITION_DAYS", 60, minimum=1),
    "PETITION_EXTENSION_MAX_DAYS": env_int("CLOCK_PETITION_EXTENSION_MAX_DAYS", 30, minimum=1),
    "FOLLOWUP_DAYS": env_int("CLOCK_FOLLOWUP_DAYS", 30, minimum=1),
    "CONFIRMATION_DAYS": env_int("CLOCK_CONFIRMATION_DAYS", 30, minimum=1),
    # How early "due soon" starts, per clock unit: working-day clocks warn one working day ahead,
    # calendar-day clocks three days ahead.
    "DUE_SOON_WORKING_DAYS": env_int("CLOCK_DUE_SOON_WORKING_DAYS", 1, minimum=0),
    "DUE_SOON_DAYS": env_int("CLOCK_DUE_SOON_DAYS", 3, minimum=0),
    "CONFIRMATION_REMIND_DAYS": env_int("CLOCK_CONFIRMATION_REMIND_DAYS", 5, minimum=0),
    "NUMBER_PREFIX_DEFAULT": env_str("REFERRAL_NUMBER_PREFIX", "JM"),
    # Parties one referral may name (the form's rows and the API's list alike).
    "MAX_PARTIES": env_int("MAX_PARTIES", 20, minimum=2),
    # The repeat check (referrals/repeats.py): how long a closed referral still counts, and how many
    # drafts a day may ask whether their parties have cases the officer cannot see.
    "REPEAT_WINDOW_MONTHS": env_int("REPEAT_WINDOW_MONTHS", 12, minimum=1),
    "REPEAT_HINTS_PER_DAY": env_int("REPEAT_HINTS_PER_DAY", 20, minimum=0),
    # 升级调解: the county bureau may take a dispute up a tier once this many rounds at the current tier
    # ended without agreement, or once its mediation is this many days past its deadline.
    "ESCALATE_AFTER_FAILED_ROUNDS": env_int("ESCALATE_AFTER_FAILED_ROUNDS", 1, minimum=1),
    "ESCALATE_AFTER_OVERDUE_DAYS": env_int("ESCALATE_AFTER_OVERDUE_DAYS", 10, minimum=0),
    # 复查 / 复核 (信访工作条例 Arts. 35–36): asked for within 30 days of receiving the reply (or the 复查
    # opinion), answered within 30 days of receiving the request, hearing time not counted.
    "APPEAL_REQUEST_DAYS": env_int("CLOCK_APPEAL_REQUEST_DAYS", 30, minimum=1),
    "APPEAL_ANSWER_DAYS": env_int("CLOCK_APPEAL_ANSWER_DAYS", 30, minimum=1),
}

# Names and titles shown in the page header.
SITE_TITLE = _("访调对接")
