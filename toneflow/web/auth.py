"""Support sign-in: server-side sessions with an idle timeout, CSRF on every support form.

Flask's signed cookie holds only a random session id (and Flask-WTF's CSRF secret); the
session itself is a row in the store (:mod:`toneflow.store.access`), looked up on every
support request. So a session ends for every copy of the cookie when its row goes:
on sign-out, when the user is removed or their password changed, or when it has been
idle longer than ``TONEFLOW_SESSION_IDLE_MINUTES`` by the server's clock (the cookie's
own expiry is the browser's to honour, and a copied cookie cannot renew anything: the
idle timer is the row's). The cookie is ``HttpOnly`` and ``SameSite=Lax``, and ``Secure``
whenever the request came over HTTPS (or ``TONEFLOW_PUBLIC_URL`` is https). CSRF tokens
(Flask-WTF) are checked on every POST to ``/support`` only: platforms post answers and
events without them.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from toneflow.logs import get_logger
from toneflow.store.access import end_session, session_user, start_session
from toneflow.web.state import store

log = get_logger(__name__)
csrf = CSRFProtect()
SESSION_KEY = "sid"  # the random session id; the store keeps only its hash


#: Paths only platforms call (answer_url, webhooks): they never read or write a session.
PLATFORM_PATHS = ("/answer/", "/events/")


class SupportSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, marked ``Secure`` when the request is over HTTPS.

    Platform requests get Flask's null session instead of one opened from the cookie:
    Flask opens the session before routing, for every request, and building the
    cookie's signing serializer cost about a tenth of an answer's time in process. A
    null session reads as empty and is never saved (no ``Set-Cookie``, no ``Vary``).
    """

    def open_session(self, app: Flask, request):  # type: ignore[override]
        if request.path.startswith(PLATFORM_PATHS):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        public = app.config.get("PUBLIC_URL") or ""
        return bool(
            app.config["SESSION_COOKIE_SECURE"]
            or public.startswith("https://")
            or request.is_secure
        )


def init_app(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        # gunicorn preloads the app, so every worker shares this key; a restart signs
        # everyone out, which is the honest default for a key nobody chose.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("secret_key_generated", hint="set TONEFLOW_SECRET_KEY to keep sessions")
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="toneflow_session",
        PERMANENT_SESSION_LIFETIME=idle,
        WTF_CSRF_CHECK_DEFAULT=False,  # only /support is checked (protect_support_form)
    )
    app.session_interface = SupportSessionInterface()
    csrf.init_app(app)


def protect_support_form() -> None:
    """Refuse a POST without a valid CSRF token (400, from Flask-WTF)."""
    if request.method == "POST":
        csrf.protect()


def signed_in_user() -> str | None:
    """The signed-in user's name, refreshing their idle timer; None if not signed in."""
    session_id = session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    name = session_user(store(), session_id, now=_now(), idle=_idle())
    if name is None:  # signed out elsewhere, idle too long, removed, or password changed
        log.info("support_session_ended")
        session.clear()
    return name


def sign_in(user_id: int) -> None:
    """Start a new server-side session; any session this browser had before is ended."""
    sign_out()  # nothing from before sign-in carries over
    session.permanent = True
    session[SESSION_KEY] = start_session(store(), user_id, now=_now(), idle=_idle())


def sign_out() -> None:
    """End this session on the server, so copies of the cookie stop working too."""
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str):
        end_session(store(), session_id)
    session.clear()


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


def _idle() -> timedelta:
    return current_app.config["PERMANENT_SESSION_LIFETIME"]
