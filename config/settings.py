"""dbdeck settings, driven by the environment (django-environ).

With nothing set, dbdeck runs embedded: SQLite metadata under var/, a generated
secret key and Fernet key kept under var/ (0600), and Celery on kombu's
filesystem transport so no broker server is needed.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

from config.https import https_settings
from connections.denylist import DEFAULT_DENIED

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Under pytest-xdist each test worker keeps its own runtime folder (metadata database, broker,
# backup root) outside the checkout, so workers never share files, and neither do two test runs
# at once (two checkouts): the folder is named after the run too, and removed when it ends.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_DEFAULT_VAR = BASE_DIR / "var"
if _XDIST_WORKER:
    _RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:12]
    _DEFAULT_VAR = Path(tempfile.gettempdir()) / f"dbdeck-tests-{os.getuid()}" / f"{_RUN}-{_XDIST_WORKER}"
VAR_DIR = Path(env.str("DBDECK_VAR_DIR", default=str(_DEFAULT_VAR))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _kept_secret(name: str, make: object) -> str:
    """Read a generated secret from var/, creating it (mode 0600) on first use."""
    path = VAR_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())  # type: ignore[operator]
    return path.read_text().strip()


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _kept_secret("secret_key", get_random_secret_key)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
DBDECK_FERNET_KEYS: list[str] = env.list("DBDECK_FERNET_KEYS", default=[]) or [
    _kept_secret("fernet.key", lambda: Fernet.generate_key().decode())
]

INSTALLED_APPS = [
    "accounts.admin_site.DbdeckAdminConfig",  # the admin behind the 2FA check (accounts/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # --- auth: login throttling and two-factor (accounts/login.py, accounts/twofactor.py) ---
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # --- end auth ---
    "accounts",
    "connections",
    "explorer",
    "backups",
    "monitoring",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # --- auth: verified-session flag, idle expiry, 2FA gate (after messages: they add some) ---
    "django_otp.middleware.OTPMiddleware",
    "accounts.sessions.IdleTimeoutMiddleware",
    "accounts.twofactor.TwoFactorMiddleware",
    # --- end auth ---
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Access errors from the permission helper answer 404 / 403 (accounts/access.py).
    "accounts.middleware.AccessDeniedMiddleware",
    # Last, so it sees the lockout flag the login view left on the request (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dbdeck.sqlite3'}")}
# Each web thread keeps its metadata connection between requests (checked before reuse): opening
# one per request was about 30% of the web CPU per request on the embedded SQLite (connect, pragmas,
# functions; 8.7 against 6.1 ms in the load mix).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DBDECK_DB_CONN_MAX_AGE", default=300))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # The test database is a file, not Django's in-memory default: console hosts, collectors and
    # the live server run in threads, and an in-memory database would make them share one
    # connection (and its transaction state) with the test's own thread.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(VAR_DIR / "test-dbdeck.sqlite3"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "connections:list"
LOGOUT_REDIRECT_URL = "login"

# --- auth: login throttling, two-factor, single sign-on (see SECURITY.md) ---
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out user or address is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with a compiler-free get_user (accounts/fastpath.py).
    "accounts.fastpath.UserBackend",
]
AXES_FAILURE_LIMIT = env.int("DBDECK_LOGIN_FAILURE_LIMIT", default=5)
# Hours; fractions allowed. Unlock earlier with `manage.py dbdeck_unlock USERNAME`.
AXES_COOLOFF_TIME = env.float("DBDECK_LOGIN_COOLOFF_HOURS", default=1.0)
# Either key reaching the limit locks: guessing one user from many addresses, or many users from one.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# Behind a proxy, name the header it sets (e.g. HTTP_X_FORWARDED_FOR) so lockouts key on the client.
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list("DBDECK_CLIENT_IP_HEADERS", default=["REMOTE_ADDR"])

# off | all | above_viewer (editors, admins and superusers).
DBDECK_REQUIRE_2FA = env.str("DBDECK_REQUIRE_2FA", default="off")
OTP_TOTP_ISSUER = "dbdeck"

# Single sign-on is on only when all three are set; nothing OIDC is imported otherwise.
DBDECK_OIDC_ISSUER = env.str("DBDECK_OIDC_ISSUER", default="").rstrip("/")
OIDC_RP_CLIENT_ID = env.str("DBDECK_OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("DBDECK_OIDC_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env.str("DBDECK_OIDC_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("DBDECK_OIDC_SCOPES", default="openid email profile groups")
OIDC_TIMEOUT = 10
DBDECK_OIDC_GROUPS_CLAIM = env.str("DBDECK_OIDC_GROUPS_CLAIM", default="groups")
# "group=Team:role,group2=Team:role"; teams named here are managed by the identity provider.
DBDECK_OIDC_TEAM_MAP = env.str("DBDECK_OIDC_TEAM_MAP", default="")
if DBDECK_OIDC_ISSUER and OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET:
    AUTHENTICATION_BACKENDS.append("accounts.oidc_backend.TeamMappingOIDCBackend")

# Idle sessions end; a middleware refreshes the expiry at most once a minute, not on every request.
DBDECK_SESSION_IDLE_MINUTES = env.int("DBDECK_SESSION_IDLE_MINUTES", default=60)
SESSION_COOKIE_AGE = DBDECK_SESSION_IDLE_MINUTES * 60
# Django's database sessions, loaded with one plain statement (accounts/fastpath.py).
SESSION_ENGINE = "accounts.fastpath"
# --- end auth ---

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# dbdeck speaks English only; without the translation machinery every {{ value }} and {% url %}
# skips a thread-local language lookup (about 50 per grid page).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticstorage.StaticStorage"},
}
WHITENOISE_USE_FINDERS = True

# Edits may carry values up to 10 MB; uploads stream to disk past this size.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DBDECK_EXPORT_MAX_ROWS = env.int("DBDECK_EXPORT_MAX_ROWS", default=1_000_000)

# --- auth: HTTPS-only cookies, redirect and HSTS in one switch (config/https.py) ---
SESSION_COOKIE_HTTPONLY = True
# DJANGO_SECURE_COOKIES is the older name of DBDECK_HTTPS and still works.
DBDECK_HTTPS = env.bool("DBDECK_HTTPS", default=env.bool("DJANGO_SECURE_COOKIES", default=False))
globals().update(https_settings(DBDECK_HTTPS, env.str("DBDECK_PROXY_SSL_HEADER", default="")))
# --- end auth ---
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Response headers (owner: issue 6 item 5): Content-Security-Policy and no-store. ---
# Kept in one block, appended to the lists above, so auth/session edits elsewhere merge cleanly.
# No inline script or style anywhere: every script and stylesheet is a file under static/.
# The nonce is there for a tag that truly must be inline; htmx's indicator CSS lives in
# dbdeck.css and its eval paths are off (see the htmx-config meta in base.html).
from csp.constants import NONCE, NONE, SELF  # noqa: E402

INSTALLED_APPS += ["csp"]
# Right after authentication (no-store needs request.user), so responses made by any later
# middleware (login throttling, 2FA) get both headers too.
_after_auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_after_auth:_after_auth] = ["csp.middleware.CSPMiddleware", "config.headers.NoStoreMiddleware"]
TEMPLATES[0]["OPTIONS"]["context_processors"] += [  # type: ignore[index]
    "config.headers.csp_nonce",
    "config.headers.back_link",
    "config.headers.nav_urls",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "connect-src": [SELF],
    },
}
# --- end of response headers ---

# Celery: the embedded default needs no broker server.
BROKER_DIR = VAR_DIR / "broker"
# The host part only quiets kombu's "No hostname was supplied"; the transport ignores it.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Remote control's exchange table; kombu's default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than the longest task, or acks_late tasks near their limit would be delivered twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
CELERY_RESULT_BACKEND = None
# JSON only: tasks take primary keys, and a worker that accepts pickle runs whatever a broker user sends.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_TIME_LIMIT = 3600
CELERY_TASK_SOFT_TIME_LIMIT = 3300
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Each app below adds its queue routes and beat entries to these.
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

# Where connection targets may point.
DBDECK_SQLITE_ROOTS: list[str] = env.list("DBDECK_SQLITE_ROOTS", default=[str(VAR_DIR / "sqlite")])
DBDECK_HOSTS_ALLOWED: list[str] = env.list("DBDECK_HOSTS_ALLOWED", default=[])
# Defaults, one comment per entry, in connections/denylist.py; the variable replaces them, _EXTRA adds.
DBDECK_HOSTS_DENIED: list[str] = [
    *env.list("DBDECK_HOSTS_DENIED", default=DEFAULT_DENIED),
    *env.list("DBDECK_HOSTS_DENIED_EXTRA", default=[]),
]
DBDECK_CONNECT_TIMEOUT = env.float("DBDECK_CONNECT_TIMEOUT", default=5.0)
DBDECK_STATEMENT_TIMEOUT = env.float("DBDECK_STATEMENT_TIMEOUT", default=30.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "connections.logging.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Alerts (config/notify.py): email through Django's mail settings; the console backend until SMTP is set.
EMAIL_BACKEND = env.str("DBDECK_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("DBDECK_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DBDECK_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DBDECK_EMAIL_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DBDECK_EMAIL_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DBDECK_EMAIL_TLS", default=False)
EMAIL_TIMEOUT = env.int("DBDECK_EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DBDECK_EMAIL_FROM", default="dbdeck@localhost")

# ---- Backups (backups/) --------------------------------------------------------------------------
# Artifacts of local destinations live under this root (each team in its own folder).
DBDECK_BACKUP_ROOT = Path(env.str("DBDECK_BACKUP_ROOT", default=str(VAR_DIR / "backups"))).resolve()
# Backup encryption keys, separate from the credential keys: "id:base64-of-32-bytes", comma-separated.
# The first encrypts, all decrypt (rotation). Embedded default: a generated key kept in var/backup.key (0600).
DBDECK_BACKUP_KEYS: list[str] = env.list("DBDECK_BACKUP_KEYS", default=[]) or [
    _kept_secret("backup.key", lambda: "local-" + os.urandom(4).hex() + ":" + base64.b64encode(os.urandom(32)).decode())
]
# Where restore-tests start their ephemeral servers (a private temp folder each).
DBDECK_SANDBOX_DIR = env.str("DBDECK_SANDBOX_DIR", default="")
# Runs whose heartbeat is older than this are reaped as "worker lost".
DBDECK_BACKUP_HEARTBEAT_TIMEOUT_S = env.int("DBDECK_BACKUP_HEARTBEAT_TIMEOUT_S", default=120)
CELERY_TASK_ROUTES["backups.tasks.*"] = {"queue": "backups"}
CELERY_BEAT_SCHEDULE["backups-tick"] = {"task": "backups.tasks.tick", "schedule": 60.0}
# Links in alerts start with this address (the address people open dbdeck at).
DBDECK_PUBLIC_URL = env.str("DBDECK_PUBLIC_URL", default="http://127.0.0.1:8000")
# --- monitoring (monitoring/) ---
# Collectors run on their own Celery queue; the beat tick queues the connections that are due.
MONITORING_INTERVAL_S = env.int("DBDECK_MONITORING_INTERVAL_S", default=60)  # per connection, changeable
MONITORING_STATEMENT_TIMEOUT = env.float("DBDECK_MONITORING_STATEMENT_TIMEOUT", default=10.0)
MONITORING_LEASE_S = env.int("DBDECK_MONITORING_LEASE_S", default=300)
MONITORING_MAX_BACKOFF_S = env.int("DBDECK_MONITORING_MAX_BACKOFF_S", default=3600)
MONITORING_TOP_STATEMENTS = env.int("DBDECK_MONITORING_TOP_STATEMENTS", default=50)
MONITORING_MINUTE_RETENTION_H = env.int("DBDECK_MONITORING_MINUTE_RETENTION_H", default=48)
MONITORING_HOUR_RETENTION_D = env.int("DBDECK_MONITORING_HOUR_RETENTION_D", default=90)
CELERY_TASK_ROUTES["monitoring.*"] = {"queue": "monitoring"}
CELERY_BEAT_SCHEDULE["monitoring-tick"] = {"task": "monitoring.tick", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["monitoring-rollup"] = {"task": "monitoring.rollup_and_purge", "schedule": 3600.0}
# --- end monitoring ---
# --- API (issue 12): /api/v1/, personal access tokens and their rate limit (api/ratelimit.py) ---
INSTALLED_APPS += ["ninja", "api"]  # ninja: Swagger UI's files for /api/v1/docs, served from static/
DBDECK_API_RATE_LIMIT = env.int("DBDECK_API_RATE_LIMIT", default=600)  # requests per token per window
DBDECK_API_RATE_WINDOW = env.int("DBDECK_API_RATE_WINDOW", default=60)  # seconds
# --- end API ---
# ---- Query console (explorer/console) ----
# Where sessions live: "celery" (the `console` queue, a thread-pool worker) or "thread" (this process).
DBDECK_CONSOLE_HOST = env.str("DBDECK_CONSOLE_HOST", default="celery")
DBDECK_CONSOLE_IDLE_S = env.float("DBDECK_CONSOLE_IDLE_S", default=300.0)  # then rolled back and closed
DBDECK_CONSOLE_ABANDON_S = env.float("DBDECK_CONSOLE_ABANDON_S", default=30.0)  # running, page gone: cancelled
DBDECK_CONSOLE_VIEWER_TIMEOUT_S = env.float("DBDECK_CONSOLE_VIEWER_TIMEOUT_S", default=15.0)
CELERY_BEAT_SCHEDULE["console-reap"] = {"task": "explorer.console.reap", "schedule": 60.0}
