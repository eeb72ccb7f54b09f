"""Support sign-in: cookie sessions with an idle timeout, CSRF on every support form.

Flask's signed cookie session holds the user id and when they were last seen. The cookie
is ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` whenever the request came over HTTPS
(or ``TONEFLOW_PUBLIC_URL`` is https). A session idle longer than
``TONEFLOW_SESSION_IDLE_MINUTES`` ends; the check is on the server's clock, since the
cookie's own expiry is the browser's to honour. CSRF tokens (Flask-WTF) are checked on
every POST to ``/support`` only: platforms post answers and events without them.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from toneflow.logs import get_logger
from toneflow.store.access import user_name
from toneflow.web.state import store

log = get_logger(__name__)
csrf = CSRFProtect()
USER_KEY = "user_id"
SEEN_KEY = "seen"


class SupportSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, marked ``Secure`` when the request is over HTTPS."""

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
    user_id = session.get(USER_KEY)
    if user_id is None:
        return None
    idle_seconds = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if time.time() - session.get(SEEN_KEY, 0) > idle_seconds:
        log.info("support_session_expired", user_id=user_id)
        session.clear()
        return None
    name = user_name(store(), user_id)
    if name is None:  # the user was removed
        session.clear()
        return None
    session[SEEN_KEY] = int(time.time())
    return name


def sign_in(user_id: int) -> None:
    session.clear()  # nothing from before sign-in carries over
    session.permanent = True
    session[USER_KEY] = user_id
    session[SEEN_KEY] = int(time.time())


def sign_out() -> None:
    session.clear()
