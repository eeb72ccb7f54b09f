"""``/support/calls`` and ``/support/calls/<call_id>``: the call log for support staff.

Server-rendered HTML (Jinja2 ``.html`` templates, so every value is autoescaped), behind
a sign-in. The list shows each call's outcome already; one click on a call opens its
page, which says the outcome first, in words, then the timeline. No script runs on these
pages at all, and the Content-Security-Policy says so to the browser.

Text from a call is shown through the ``visible`` filter (control and invisible
characters as marked escapes), and every call id can be opened: a link is built by
:func:`call_url`, which falls back to ``/support/call?id=`` for ids a path cannot carry.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from schemas.calls import CALL_PAGE, CALL_RECORD, CallListArgsSchema
from schemas.errors import describe_validation
from toneflow.logs import get_logger
from toneflow.outcome import OUTCOME_KINDS
from toneflow.present import (
    TROUBLE,
    clock,
    delta,
    outcome_words,
    timeline,
    visible,
    visible_parts,
)
from toneflow.store import InvalidCursor
from toneflow.store.access import check_user
from toneflow.web import auth
from toneflow.web.graphs import call_graph
from toneflow.web.state import call_log, flows, store

bp = Blueprint(
    "support",
    __name__,
    url_prefix="/support",
    template_folder="templates",
    static_folder="static",
)
log = get_logger(__name__)
LIST_ARGS = CallListArgsSchema()
PAGE_SIZE = 50
#: No scripts, no outside anything: styles from this app only.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
OPEN_ENDPOINTS = ("support.sign_in", "support.static")


class SignInForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SignOutForm(FlaskForm):
    pass


def init_app(app) -> None:
    """Sessions and CSRF for the support pages, then the pages themselves."""
    auth.init_app(app)
    app.register_blueprint(bp)


@bp.before_request
def _guard() -> Response | None:
    auth.protect_support_form()
    g.user = auth.signed_in_user()
    if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
        return redirect(url_for("support.sign_in", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "support.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def _form_expired(err: CSRFError) -> tuple[str, int]:
    """A missing or stale CSRF token: say so on a page, not in the API's JSON shape."""
    log.warning("support_csrf_refused", reason=err.description)
    return render_template("support/form_expired.html"), 400


@bp.errorhandler(Exception)
def _failed(err: Exception) -> tuple[str, int]:
    """Anything else that goes wrong on these pages is a page too, never the API's JSON."""
    if isinstance(err, HTTPException):
        status, message = err.code or 500, err.description or err.name
    elif isinstance(err, SQLAlchemyError):
        log.error("store_unavailable", error=str(err))
        status, message = 503, "The call log store is unavailable; try again shortly."
    else:
        log.exception("unhandled_error")
        status, message = 500, "Something went wrong on our side; it has been logged."
    return render_template("support/error.html", status=status, message=message), status


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "sign_out_form": SignOutForm,
        "outcome_words": outcome_words,
        "trouble": TROUBLE,
        "call_url": call_url,
    }


@bp.app_template_filter("visible")
def _visible(value: Any, lines: bool = False, json_text: bool = False) -> Markup:
    """Text from a call, autoescaped, with each escape in ``<span class="escape">``.

    So ``call_\u202eevil`` reads as written instead of reversed, and ``call_\u200b123``
    never passes for ``call_123``. Each chunk goes through :func:`markupsafe.escape`.
    """
    if value is None:
        return Markup("")
    parts = visible_parts(str(value), lines=lines, json_text=json_text)
    return Markup("").join(
        Markup('<span class="escape">{}</span>').format(chunk) if is_escape else escape(chunk)
        for chunk, is_escape in parts
    )


@bp.app_template_filter("visible_text")
def _visible_text(value: Any) -> str:
    """The same, without markup: for places that hold only text, such as ``<title>``."""
    return "" if value is None else visible(str(value))


def call_url(call_id: str) -> str:
    """The link to a call's page: its id in the path when a path carries it faithfully.

    Browsers and proxies remove ``.`` and ``..`` segments and some merge ``//``, so an id
    with an empty, ``.`` or ``..`` segment (or a leading or trailing ``/``) goes in the
    query string instead, which carries any text; so does one with a newline, which
    Werkzeug's ``path`` converter does not match.
    """
    if path_carries(call_id):
        return url_for("support.call", call_id=call_id)
    return url_for("support.call_by_query", id=call_id)


def path_carries(call_id: str) -> bool:
    """Whether ``/calls/<call_id>`` (``/`` as is, the rest percent-encoded) survives."""
    if "\n" in call_id:
        return False
    return all(segment not in ("", ".", "..") for segment in call_id.split("/"))


bp.add_app_template_filter(clock, "clock")
bp.add_app_template_filter(delta, "delta")


@bp.app_template_filter("when")
def _when(value: str | None) -> str:
    """``2026-05-29T12:10:00.123Z`` -> ``2026-05-29 12:10:00 UTC``."""
    if not value:
        return "-"
    return value.replace("T", " ")[:19] + " UTC"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str:
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        user_id = check_user(store(), form.name.data, form.password.data)
        if user_id is not None:
            auth.sign_in(user_id)
            log.info("support_signed_in", user=form.name.data)
            return redirect(_safe_next(request.args.get("next")))
        log.warning("support_sign_in_failed", user=form.name.data)
        failed = True
    status = 401 if failed else 200
    return render_template("support/sign_in.html", form=form, failed=failed), status


@bp.post("/sign-out")
def sign_out() -> Response:
    auth.sign_out()
    return redirect(url_for("support.sign_in"))


@bp.get("/")
def home() -> Response:
    return redirect(url_for("support.calls"))


@bp.get("/calls")
def calls() -> tuple[str, int]:
    given = {key: value for key, value in request.args.items() if value.strip()}
    error, page = None, None
    try:
        args = LIST_ARGS.load(_whole_days(given))
        page = CALL_PAGE.dump(
            call_log().list(args["filters"], limit=PAGE_SIZE, cursor=args["cursor"])
        )
    except ValidationError as err:
        error = describe_validation(err)
    except InvalidCursor as err:
        error = f"cursor: {err}"
    filters = {key: value for key, value in given.items() if key != "cursor"}
    return render_template(
        "support/calls.html",
        page=page,
        error=error,
        filters=filters,
        outcome_kinds=OUTCOME_KINDS,
        flow_names=sorted(flows().flows),
    ), (400 if error else 200)


@bp.get("/calls/<path:call_id>")
def call(call_id: str) -> tuple[str, int]:
    return _call_page(call_id)


@bp.get("/call")
def call_by_query() -> tuple[str, int]:
    """``/support/call?id=…``: any call id, even one a path cannot carry."""
    return _call_page(request.args.get("id", ""))


def _call_page(call_id: str) -> tuple[str, int]:
    stored = call_log().get(call_id)
    if stored is None:
        return render_template("support/missing.html", call_id=call_id), 404
    record = CALL_RECORD.dump(stored)
    graph = call_graph(record)
    return render_template(
        "support/call.html", record=record, timeline=timeline(record), graph=graph
    ), 200


def _whole_days(args: dict[str, str]) -> dict[str, str]:
    """The page's date pickers give days: "until 29 May" includes all of 29 May.

    A bad date is left for the schema to report; the last day there is (9999-12-31) has
    no next day, so it is refused here, naming the field, like any other bad filter.
    """
    until = args.get("until")
    if until is None or len(until) != 10:
        return args
    try:
        day = date.fromisoformat(until)
    except ValueError:
        return args
    if day == date.max:
        raise ValidationError({"until": [f"must be before {date.max.isoformat()}"]})
    return {**args, "until": (day + timedelta(days=1)).isoformat()}


def _safe_next(target: str | None) -> str:
    """Only a path on these pages: never an open redirect to another site.

    A control character (C0, DEL or C1: CR and LF above all) cannot go into a
    ``Location`` header, so such a target gets the default page rather than a 500.
    """
    default = url_for("support.calls")
    if not target or any(unicodedata.category(char) == "Cc" for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/support/"):
        return default
    if "\\" in target or target.startswith("//"):
        return default
    return target
