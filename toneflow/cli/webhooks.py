"""``toneflow webhooks sign``: sign a test event the way the platform would.

With ``TONEFLOW_WEBHOOK_SECRET`` set, unsigned events get 401; this prints the three
Standard Webhooks headers for a body, so a person can try the endpoint with curl.
"""

from __future__ import annotations

import time
import uuid

import click

from toneflow.config import load_config
from toneflow.web.signatures import SecretError, Verifier, sign


@click.group(help="Standard Webhooks helpers.")
def webhooks() -> None:
    pass


@webhooks.command("sign")
@click.argument("body")
@click.option("--secret", help="whsec_… secret (default: the first of TONEFLOW_WEBHOOK_SECRET).")
@click.option("--id", "message_id", help="webhook-id (default: a new msg_… id).")
@click.option("--curl", "as_curl", is_flag=True, help="Print as curl -H arguments.")
def sign_command(body: str, secret: str | None, message_id: str | None, as_curl: bool) -> None:
    """Print the webhook-id, webhook-timestamp and webhook-signature headers for BODY."""
    secret = secret or (load_config()["WEBHOOK_SECRET"] or "").split(" ")[0]
    if not secret:
        raise click.UsageError("give --secret or set TONEFLOW_WEBHOOK_SECRET")
    try:
        Verifier(secret)  # the same check start-up makes, with its message
    except SecretError as err:
        raise click.UsageError(str(err)) from err
    headers = sign(
        secret, message_id or f"msg_{uuid.uuid4().hex}", int(time.time()), body.encode("utf-8")
    )
    if as_curl:
        # No spaces inside an argument, so $(toneflow webhooks sign … --curl) splits right.
        click.echo(" ".join(f"-H {name}:{value}" for name, value in headers.items()))
    else:
        for name, value in headers.items():
            click.echo(f"{name}: {value}")
