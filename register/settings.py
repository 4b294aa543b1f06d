"""Settings for the data sharing agreement register.

One module, driven by environment variables (django-environ). Every variable is documented in README.md.
Nothing set gives the embedded set-up (SQLite under var/, tasks run in-process); naming real services switches
to them. The defaults are the safe ones: DEBUG is off unless asked for, and with DEBUG off the site refuses to
start without a real SECRET_KEY.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
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
    "agreements",
    "publishing",
    "staff",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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

# Failed sign-ins: lock the username and address out for a while. https://django-axes.readthedocs.io/
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

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
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker killed mid-task leaves the message on the queue, so another worker re-runs it; tasks are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
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
    "send-reminders-daily": {
        "task": "agreements.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=0),
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}
