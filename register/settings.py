"""Settings for the data sharing agreement register.

One module, driven by environment variables (django-environ). Every variable is documented in README.md.
Nothing set gives the embedded set-up (SQLite under var/, tasks run in-process); naming real services switches
to them. The defaults are the safe ones: DEBUG is off unless asked for, and with DEBUG off the site refuses to
start without a real SECRET_KEY.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# DEBUG=true is development mode (`make run`, `make test`): the development secret key, demo accounts, static
# files from the finders, cookies over plain HTTP. Django's own debug pages (the yellow 404 and traceback pages)
# are a second opt-in, DEBUG_PAGES=true, so that `make run` shows the NHS.UK error pages the product shows.
DEVELOPMENT = env.bool("DEBUG", default=False)
DEBUG = DEVELOPMENT and env.bool("DEBUG_PAGES", default=False)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEVELOPMENT else "")
if not DEVELOPMENT and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )

_LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_LOCAL_HOSTS)
if DEVELOPMENT and set(ALLOWED_HOSTS) - {*_LOCAL_HOSTS, "testserver"}:
    # Development mode (and its debug pages) leaks settings and source; a site serving real host names must
    # never run in it.
    raise ImproperlyConfigured("DEBUG must be off when ALLOWED_HOSTS names hosts other than this machine.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Django's own form and widget templates, for the template-based renderer below.
    "django.forms",
    "guardian",
    "axes",
    # Lower layers first (import-linter keeps the order, see pyproject.toml).
    "audit",
    "nhsuk",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "mozilla_django_oidc",
    "accounts",
    "agreements",
    "publishing",
    "datarequests",
    "staff",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that renders, so request.csp_nonce exists for the templates.
    "csp.middleware.CSPMiddleware",
    # Every audit row written while serving a request names the client's address.
    "accounts.middleware.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Stored public pages, like static files: before any session or database work (publishing/pages.py).
    "publishing.pages.PublicPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the auth backend into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "register.urls"
WSGI_APPLICATION = "register.wsgi.application"

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
                "register.context_processors.portal",
                "csp.context_processors.nonce",
            ],
        },
    },
]
# Widgets render through the project's templates, so templates/forms/ can hold NHS.UK markup. Staff forms add the
# NHS.UK field layout with agreements.forms.NHSRenderer; the admin keeps Django's own.
# https://docs.djangoproject.com/en/5.2/ref/forms/renderers/#templatessetting
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Databases: SQLite under var/ unless DATABASE_URL names a real server (postgres://user@host:port/name).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and WAL let the dev server, an in-process task and a browser test share the file
    # without "database is locked". https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first, so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on; it answers only the OIDC callback (a request with code and state), and only when configured.
    "accounts.oidc.PortalOIDCBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian anonymous user: the public never holds object permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff:dashboard"
LOGOUT_REDIRECT_URL = "publishing:home"
# A signed-in session that sees no request for this long is signed out (the sign-in page says why).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_MINUTES", default=30) * 60
# Links in password-reset e-mails last this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_HOURS", default=2) * 3600
# Invitation links for new staff and partner contacts last this long.
INVITATION_MAX_AGE = env.int("INVITATION_DAYS", default=7) * 24 * 3600

# Second factor (django-otp): TOTP apps, WebAuthn security keys and passkeys, one-time recovery codes.
# https://django-otp-official.readthedocs.io/
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Data sharing register")
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
# A passkey is a second factor here, never a way in on its own: the password (or single sign-on) comes first.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Single sign-on (OpenID Connect), e.g. Microsoft Entra ID (NHSmail) or NHS Care Identity Service 2. Off unless
# OIDC_ISSUER_URL is set; the endpoints come from the issuer's discovery document (accounts/oidc.py).
OIDC_ISSUER_URL = env.str("OIDC_ISSUER_URL", default="").rstrip("/")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_ALLOWED_EMAIL_DOMAINS = [d.lower().lstrip("@") for d in env.list("OIDC_ALLOWED_EMAIL_DOMAINS", default=[])]
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="") or "your organisation's account"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
# Never: a first sign-on links to an existing account by e-mail, or is refused (accounts/oidc.py).
OIDC_CREATE_USER = False
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
if OIDC_ISSUER_URL and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET and OIDC_ALLOWED_EMAIL_DOMAINS):
    raise ImproperlyConfigured(
        "OIDC_ISSUER_URL is set: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_ALLOWED_EMAIL_DOMAINS must be set too."
    )

# Failed sign-ins: lock the username and address out for a while. https://django-axes.readthedocs.io/
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The TLS proxies in front of the app (addresses or networks). X-Forwarded-For is believed only from them: the
# client is the right-most address in it that is not one of them. Empty: the connecting address is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "accounts.network.client_ip"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
# nhsuk-frontend is installed by npm and served straight from node_modules; it is never copied into static/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("nhsuk", BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# In development WhiteNoise serves straight from the finders (node_modules included), with no collectstatic.
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT
# Public pages rendered at publication and served from storage (publishing/pages.py): on or off, how often each
# web process looks for a new generation, and how much of them each process keeps in memory.
PUBLIC_PAGES_SERVE = env.bool("PUBLIC_PAGES_SERVE", default=True)
PUBLIC_PAGES_RECHECK_SECONDS = env.float("PUBLIC_PAGES_RECHECK_SECONDS", default=1.0)
PUBLIC_PAGES_CACHE_MB = env.int("PUBLIC_PAGES_CACHE_MB", default=64)
# Uploaded agreement documents (signed PDFs): the largest accepted file.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_MB", default=20) * 1024 * 1024
# Bulk import of an existing register (CSV or XLSX): the largest file and the most rows one import takes.
IMPORT_MAX_MB = env.int("IMPORT_MAX_MB", default=5)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=5000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# E-mail: the console in development, SMTP in production (EMAIL_URL=smtp+tls://user:pass@host:587).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Data sharing register <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who the portal writes to about failed publications and reminders (comma-separated).
IG_TEAM_EMAILS = env.list("IG_TEAM_EMAILS", default=[])
# Apps that add reminders to the daily reminder e-mails (agreements.reminders), by dotted path. Wiring, not an
# environment variable.
REMINDER_SOURCES = ["datarequests.reminders.reminders_due"]

# The deployment's organisation, shown in the header of every page.
PORTAL_ORGANISATION_NAME = env.str("PORTAL_ORGANISATION_NAME", default="NHS Leicester, Leicestershire and Rutland")
PORTAL_SERVICE_NAME = env.str("PORTAL_SERVICE_NAME", default="Data sharing register")
# The ODS code of that organisation: the Information Sharing Register names the other parties to an agreement.
PORTAL_ORGANISATION_ODS_CODE = env.str("PORTAL_ORGANISATION_ODS_CODE", default="QK1")
# The public registers' contact address and privacy notice, used when a register is first created; the IG team
# edits them afterwards in the staff area.
REGISTER_CONTACT_EMAIL = env.str("REGISTER_CONTACT_EMAIL", default="llricb-llr.informationgovernance@nhs.net")
REGISTER_PRIVACY_NOTICE_URL = env.str(
    "REGISTER_PRIVACY_NOTICE_URL",
    default="https://leicesterleicestershireandrutland.icb.nhs.uk/wp-content/uploads/2025/09/"
    "LLR-ICB-CORP-018-LLR-ICB-PUBLIC-Privacy-Notice-August-2025-v1.7-FINAL.pdf",
)
# The logo at the top right of every page of the registers' PDFs: an SVG or PNG file of the deployment (the NHS
# identity lock-up it is licensed to use). Unset, the PDF draws a neutral NHS.UK-style lock-up from the name.
REGISTER_LOGO_PATH = env.str("REGISTER_LOGO_PATH", default="")
# Absolute address of the site, for links in e-mails (no trailing slash).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# WebAuthn binds a security key to the site's host name and checks the page's origin: both come from SITE_URL.
# Browsers refuse security keys on an IP address, so in development open the portal at http://localhost:8000.
_SITE = urlsplit(SITE_URL)
OTP_WEBAUTHN_RP_ID = _SITE.hostname if _SITE.hostname not in ("127.0.0.1", "::1", None) else "localhost"
# Plain http is allowed only on localhost (a browser's "secure context").
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{_SITE.netloc}" if _SITE.scheme == "https" else f"http://localhost:{_SITE.port or 80}"
]

# The audit log keeps every event this long, then the daily task removes it (README, "Audit log").
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=6 * 365 + 2)

# Publishing (README, "Publishing at scale" and "Reliability"). Rows per PDF chunk: each chunk is one task, rendered
# in parallel on the workers (or a local process pool without a broker) in memory bounded by this number.
PUBLISH_CHUNK_ROWS = env.int("PUBLISH_CHUNK_ROWS", default=250)
# Processes that render chunks without a broker (make run); 0 means one per CPU.
PUBLISH_LOCAL_PROCESSES = env.int("PUBLISH_LOCAL_PROCESSES", default=0)
# Stored PDF pieces that no current edition uses are deleted after this many days (a daily task).
PUBLISH_PIECES_KEEP_DAYS = env.int("PUBLISH_PIECES_KEEP_DAYS", default=7)
# A render holds a lease on its edition, renewed as each chunk finishes. A lease that runs out means its worker
# died: the sweep (every PUBLISH_SWEEP_SECONDS, from beat) starts the edition again, re-using the chunks done.
PUBLISH_LEASE_SECONDS = env.int("PUBLISH_LEASE_SECONDS", default=120)
PUBLISH_SWEEP_SECONDS = env.int("PUBLISH_SWEEP_SECONDS", default=60)

# Celery. https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "cache+memory://",
)
CELERY_RESULT_EXPIRES = 24 * 3600
# The queue the tasks go to and the workers read: two deployments (or test runs) sharing one Redis keep apart.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker killed mid-task leaves the message on the queue, so another worker re-runs it; tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a worker took and never acknowledged (the whole worker killed) goes back on the queue after this long
# (kombu's default is an hour). Longer than any one task: an edition is many short tasks. The sweep below brings a
# dead render back sooner.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300, "socket_connect_timeout": 3}
# A web request that sends a task fails within seconds when the broker is down, rather than retrying for long.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "expire-agreements-daily": {
        "task": "agreements.tasks.expire_agreements",
        "schedule": crontab(hour=1, minute=0),
    },
    # After the expiry run, so a linkage whose agreement expired overnight is marked before the reminders go out.
    "recheck-linkages-daily": {
        "task": "agreements.tasks.recheck_linkages",
        "schedule": crontab(hour=1, minute=15),
    },
    # Before the reminders, so a request that lapsed overnight is not reminded about.
    "lapse-data-requests-daily": {
        "task": "datarequests.tasks.lapse_requests",
        "schedule": crontab(hour=1, minute=30),
    },
    "send-reminders-daily": {
        "task": "agreements.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    "compact-rule-inputs-daily": {
        "task": "agreements.tasks.compact_rule_inputs",
        "schedule": crontab(hour=2, minute=15),
    },
    "prune-audit-events-daily": {
        "task": "audit.tasks.prune_audit_events",
        "schedule": crontab(hour=2, minute=30),
    },
    "prune-publishing-pieces-daily": {
        "task": "publishing.tasks.prune_pieces",
        "schedule": crontab(hour=3, minute=0),
    },
    # Starts again any edition whose worker died mid-render (its lease ran out): README, "Reliability".
    "sweep-publications": {
        "task": "publishing.tasks.sweep_publications",
        "schedule": PUBLISH_SWEEP_SECONDS,
    },
    # Quarterly, 06:00 Europe/London (CELERY_TIMEZONE) on 1 January, April, July and October. Re-runs are no-ops:
    # the service publishes at most one scheduled edition per register per quarter.
    "publish-sub-licence-register-quarterly": {
        "task": "publishing.tasks.publish_edition",
        "schedule": crontab(hour=6, minute=0, day_of_month=1, month_of_year="1,4,7,10"),
        "kwargs": {"register": "sub-licences"},
    },
    # Annually, 06:00 on 1 April (the financial year). A separate task from the quarterly one the same morning: each
    # locks only its own register and has its own one-per-period key, so neither blocks nor repeats the other.
    "publish-information-sharing-register-annually": {
        "task": "publishing.tasks.publish_edition",
        "schedule": crontab(hour=6, minute=0, day_of_month=1, month_of_year="4"),
        "kwargs": {"register": "information-sharing"},
    },
}

# Security. Production is DEBUG off; these follow it, and `manage.py check --deploy` is clean with them.
SESSION_COOKIE_SECURE = not DEVELOPMENT
CSRF_COOKIE_SECURE = not DEVELOPMENT
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEVELOPMENT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEVELOPMENT)
# nhs.uk and gov.uk services are on the browsers' HSTS preload list; a deployment elsewhere may turn this off.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEVELOPMENT)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (as in docker-compose.yml).
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# Content-Security-Policy (django-csp): nothing inline runs or styles a page unless it carries the request's nonce.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # NHS.UK frontend's stylesheet loads the Frutiger web font from the NHS's own asset host.
        "font-src": ["'self'", "https://assets.nhs.uk"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *([OIDC_ISSUER_URL] if OIDC_ISSUER_URL else [])],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}
