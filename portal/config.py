"""The portal's Django settings, made from statedata's own ``Settings`` when the portal starts (never at
import): the database, the secret key, where evidence files are kept, and the deployment switches.

STATEDATA_PORTAL_DATABASE_URL   PostgreSQL for the portal's state (postgresql://user:pass@host/db); default: SQLite
                                in STATEDATA_HOME/portal/portal.sqlite3
STATEDATA_PORTAL_SECRET_KEY     Django's signing key; default: a random key made once and kept (mode 0600) in
                                STATEDATA_HOME/portal/secret_key
STATEDATA_PORTAL_HOSTS          host names the portal answers to, comma-separated (default: localhost,127.0.0.1)
STATEDATA_PORTAL_SECURE         1 behind HTTPS: secure cookies, HSTS, redirect to https (docs/portal.md, 部署)
STATEDATA_PORTAL_SSO_HEADER     a header a trusted reverse proxy (CAS) sets to the signed-in user name, e.g.
                                HTTP_X_REMOTE_USER; unset: only the portal's own login
STATEDATA_PORTAL_UPLOAD_MB      largest evidence file accepted (default 20)
"""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from model.settings import Settings, SettingsError

_current: Settings | None = None


def statedata() -> Settings:
    """The statedata settings the portal was started with."""
    if _current is None:
        raise RuntimeError("the portal is not set up: call portal.setup(settings) first")
    return _current


def state_dir(settings: Settings) -> Path:
    return settings.home / "portal"


def in_use(settings: Settings, env=None) -> bool:
    """Whether this working folder has a portal (its database exists, or is a server's)."""
    env = os.environ if env is None else env
    return bool(env.get("STATEDATA_PORTAL_DATABASE_URL")) or (state_dir(settings) / "portal.sqlite3").exists()


def evidence_dir(settings: Settings) -> Path:
    return state_dir(settings) / "evidence"


def _secret_key(settings: Settings, env) -> str:
    if env.get("STATEDATA_PORTAL_SECRET_KEY"):
        return env["STATEDATA_PORTAL_SECRET_KEY"]
    path = state_dir(settings) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text(encoding="utf-8").strip()


def database(settings: Settings, env) -> dict:
    """Django's DATABASES['default']: PostgreSQL from STATEDATA_PORTAL_DATABASE_URL, else the embedded SQLite."""
    url = env.get("STATEDATA_PORTAL_DATABASE_URL", "")
    if not url:
        path = state_dir(settings) / "portal.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": {"timeout": 20}}
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise SettingsError(
            f"STATEDATA_PORTAL_DATABASE_URL: {parts.scheme!r} is not supported; use postgresql://user:pass@host/db "
            "or leave it unset for SQLite"
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def django_settings(settings: Settings, env=None, debug: bool = False) -> dict:
    env = os.environ if env is None else env
    secure = env.get("STATEDATA_PORTAL_SECURE", "") == "1"
    try:
        upload_mb = int(env.get("STATEDATA_PORTAL_UPLOAD_MB", "20"))
    except ValueError:
        raise SettingsError("STATEDATA_PORTAL_UPLOAD_MB: expected a whole number of megabytes, e.g. 20") from None
    sso = env.get("STATEDATA_PORTAL_SSO_HEADER", "")
    middleware = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        *(["portal.access.HeaderSSOMiddleware"] if sso else []),
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    return dict(
        DEBUG=debug,
        SECRET_KEY=_secret_key(settings, env),
        ALLOWED_HOSTS=[h.strip() for h in env.get("STATEDATA_PORTAL_HOSTS", "localhost,127.0.0.1").split(",")]
        + ["testserver"],
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "portal.apps.PortalConfig",
        ],
        MIDDLEWARE=middleware,
        AUTHENTICATION_BACKENDS=(["portal.access.HeaderSSOBackend"] if sso else [])
        + ["django.contrib.auth.backends.ModelBackend"],
        PORTAL_SSO_HEADER=sso,
        ROOT_URLCONF="portal.site",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                        "portal.access.context",
                    ]
                },
            }
        ],
        DATABASES={"default": database(settings, env)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        LANGUAGE_CODE="zh-hans",
        LANGUAGES=[("zh-hans", "简体中文")],
        TIME_ZONE="Asia/Shanghai",
        USE_I18N=True,
        USE_TZ=True,
        LOGIN_URL="portal:login",
        LOGIN_REDIRECT_URL="portal:home",
        LOGOUT_REDIRECT_URL="portal:login",
        STATIC_URL="/static/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_AGE=8 * 3600,
        SESSION_COOKIE_SAMESITE="Lax",
        CSRF_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        CSRF_COOKIE_SECURE=secure,
        SECURE_SSL_REDIRECT=secure,
        SECURE_HSTS_SECONDS=31536000 if secure else 0,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https") if secure else None,
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        X_FRAME_OPTIONS="DENY",
        DATA_UPLOAD_MAX_MEMORY_SIZE=2_621_440,
        FILE_UPLOAD_MAX_MEMORY_SIZE=2_621_440,
        PORTAL_UPLOAD_MAX_BYTES=upload_mb * 2**20,
        PORTAL_EVIDENCE_DIR=str(evidence_dir(settings)),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        AUTH_PASSWORD_VALIDATORS=[
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        ],
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
        },
    )


def setup(settings: Settings, env=None, debug: bool = False, migrate: bool = True) -> None:
    """Configure Django for this working folder and load the application (once per process); bring the portal's
    database up to date (its migrations) unless ``migrate`` is false."""
    global _current
    import django
    from django.conf import settings as django_conf

    if django_conf.configured:
        if _current is not None and _current.home != settings.home:
            _switch(settings, env)  # one process, another working folder (tests run many in one process)
        _current = settings
    else:
        _current = settings
        django_conf.configure(**django_settings(settings, env, debug))
        django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


def _switch(settings: Settings, env) -> None:
    """Point the configured portal at another working folder: its database and evidence store."""
    from asgiref.local import Local
    from django.conf import settings as django_conf
    from django.db import connections

    connections.close_all()
    django_conf.DATABASES = {"default": database(settings, os.environ if env is None else env)}
    django_conf.PORTAL_EVIDENCE_DIR = str(evidence_dir(settings))
    connections._settings = None
    connections.__dict__.pop("settings", None)
    connections._connections = Local(connections.thread_critical)
