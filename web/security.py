"""What keeps the app's pages safe to serve: the secret key, cookies, CSRF and response headers.

- The secret key signs session cookies and CSRF tokens. Outside the demo practice the app
  refuses to start without a real one; the demo may use a random key kept in the instance
  folder (so sessions survive a restart of `rounds serve`).
- Cookies are HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS.
  Behind a TLS proxy "came over HTTPS" is the proxy's word, X-Forwarded-Proto, trusted by
  gunicorn for the addresses in ``--forwarded-allow-ips`` and, with ``web.proxy_hops`` set,
  by the app itself (:func:`web.create_app`).
- Every form is CSRF-protected (Flask-WTF); the API takes bearer tokens, never cookies, so it
  needs no CSRF token.
- Headers: a Content-Security-Policy that allows no inline script (all JavaScript lives in
  static files), nosniff, a Referrer-Policy that gives other sites only our origin, HSTS
  over HTTPS, and `no-store` on every response that is not a static file, since nearly
  every page carries patient data.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from scheduler.runtime import Runtime
from scheduler.settings import SettingsError

csrf = CSRFProtect()

SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 12
PLACEHOLDER_SECRETS = {"changeme", "change-me", "change_me", "secret", "secret-key",
                       "dev", "development", "default", "password", "replace-me"}


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever this request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = super().get_cookie_secure(app)
        try:
            return configured or request.is_secure
        except RuntimeError:  # outside a request
            return configured


def init_app(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = resolve_secret_key(app, runtime)
    app.config.update(
        SESSION_COOKIE_NAME="rounds_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.practice.base_url.startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=settings.web.session_max_hours * 3600,
        WTF_CSRF_SSL_STRICT=True,
    )
    app.session_interface = HttpsAwareSessionInterface()
    csrf.init_app(app)
    tile_origin = _origin_pattern(settings.web.tile_url)
    app.config["ROUNDS_CSP"] = content_security_policy(tile_origin)
    app.after_request(_security_headers)


def resolve_secret_key(app: Flask, runtime: Runtime) -> str:
    """The configured key; for the demo practice only, a generated one kept on disk."""
    configured = runtime.settings.web.secret_key.strip()
    if configured:
        if len(configured) < MIN_SECRET_LENGTH or configured.lower() in PLACEHOLDER_SECRETS:
            raise SettingsError(
                "setting web.secret_key (ROUNDS_WEB_SECRET_KEY) is a placeholder or too short; "
                "use a long random value, e.g. from: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'"
            )
        return configured
    if not _is_demo(runtime):
        raise SettingsError(
            "setting web.secret_key (ROUNDS_WEB_SECRET_KEY) must be set: the app refuses to "
            "serve a practice's data with a key anyone could know (only the demo runs without)"
        )
    return _demo_secret(Path(app.instance_path))


def _is_demo(runtime: Runtime) -> bool:
    from scheduler.demo.loader import is_demo_database

    try:
        with runtime.session() as session:
            return is_demo_database(session)
    except SQLAlchemyError:  # no schema yet: certainly not the demo
        return False


def _demo_secret(instance: Path) -> str:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / SECRET_FILE
    if path.exists():
        return path.read_text("utf-8").strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _origin_pattern(tile_url: str) -> str:
    """The CSP source for the tile server: its scheme and host, with {s} as a wildcard."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    if "{" in host:  # another placeholder in the host: allow the parent domain
        host = "*." + host.split(".", 1)[1] if "." in host else ""
    return f"{parts.scheme}://{host}" if host else ""


def content_security_policy(tile_origin: str) -> str:
    images = " ".join(filter(None, ["'self'", "data:", tile_origin]))
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        "connect-src 'self'",
        "font-src 'self'",
        # The service worker and the app manifest (web/offline.py): ours, from this site only.
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _security_headers(response: Response) -> Response:
    from flask import current_app

    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["ROUNDS_CSP"])
    headers["X-Content-Type-Options"] = "nosniff"
    # Other sites (the tile server, whose usage policy asks for a referrer) see only our
    # origin, never a path; our paths hold ids, never names, in any case.
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not _is_static(request):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def _is_static(req: Request) -> bool:
    return req.endpoint in {"static", "assets.leaflet_file"}
