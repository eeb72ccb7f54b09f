"""``toneflow webhooks sign``: sign a test event or answer request the way the platform would.

With ``TONEFLOW_WEBHOOK_SECRET`` set, unsigned events get 401 (and, with
``TONEFLOW_SIGN_ANSWERS=1``, unsigned answer requests too); this prints the three
Standard Webhooks headers, so a person can try the endpoint with curl. Without ``--url``
it signs BODY as an event; with ``--url`` it signs an answer request — method, the URL's
path and query, and BODY (optional) — exactly as docs/hardening.md describes.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import unquote_to_bytes, urlsplit

import click

from toneflow.config import ConfigError, load_config
from toneflow.signing import answer_content, sign
from toneflow.webhook_secrets import SecretError, parse_secrets


@click.group(help="Standard Webhooks helpers.")
def webhooks() -> None:
    pass


@webhooks.command("sign")
@click.argument("body", required=False)
@click.option("--secret", help="whsec_… secret (default: the first of TONEFLOW_WEBHOOK_SECRET).")
@click.option("--id", "message_id", help="webhook-id (default: a new msg_… id).")
@click.option(
    "--url",
    help="Sign an answer request to this URL (its path and query are signed); "
    "without it, BODY is signed as an event.",
)
@click.option(
    "--method",
    type=click.Choice(["GET", "POST", "HEAD"], case_sensitive=False),
    help="The answer request's method (with --url; default GET, or POST when BODY is given).",
)
@click.option("--curl", "as_curl", is_flag=True, help="Print as curl -H arguments.")
def sign_command(
    body: str | None,
    secret: str | None,
    message_id: str | None,
    url: str | None,
    method: str | None,
    as_curl: bool,
) -> None:
    """Print the webhook-id, webhook-timestamp and webhook-signature headers.

    An event: BODY. An answer request: --url (and --method; BODY when it has one).
    """
    key_secret = _secret(secret)
    if url is None:
        if method is not None:
            raise click.UsageError("--method signs an answer request: give --url too")
        if body is None:
            raise click.UsageError("give the event BODY to sign (or --url for an answer request)")
        content = body.encode("utf-8")
    else:
        content = _answer_content(url, method or ("POST" if body else "GET"), body or "")
    headers = sign(key_secret, message_id or f"msg_{uuid.uuid4().hex}", int(time.time()), content)
    if as_curl:
        # No spaces inside an argument, so $(toneflow webhooks sign … --curl) splits right.
        click.echo(" ".join(f"-H {name}:{value}" for name, value in headers.items()))
    else:
        for name, value in headers.items():
            click.echo(f"{name}: {value}")


def _secret(given: str | None) -> str:
    """The secret to sign with, checked by the parser start-up uses (its message, exit 2)."""
    try:
        if given is not None:
            parse_secrets(given, variable="--secret")
            return given.split()[0]
        configured = load_config()["WEBHOOK_SECRET"]
    except (SecretError, ConfigError) as err:
        raise click.UsageError(str(err)) from None
    if not configured:
        raise click.UsageError("give --secret or set TONEFLOW_WEBHOOK_SECRET")
    return configured.split()[0]


def _answer_content(url: str, method: str, body: str) -> bytes:
    """What the server will verify for a request to ``url``: the percent-decoded path (as a
    WSGI server hands it over) and the query string as written."""
    parts = urlsplit(url)
    if not parts.path.startswith("/"):
        raise click.UsageError(f"--url must be a URL or a path starting with /, not {url!r}")
    if method.upper() in ("GET", "HEAD") and body:
        raise click.UsageError(f"a {method.upper()} request has no body: leave BODY out")
    return answer_content(
        method, unquote_to_bytes(parts.path), parts.query.encode("utf-8"), body.encode("utf-8")
    )
