"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

Verification is the maintained ``standardwebhooks`` package's, with its ±5 minute
timestamp tolerance. The package raises exceptions other than its own for some malformed
input (a signature without a comma, bad base64, content that is not UTF-8): this module
turns every one of them into :class:`SignatureError`, which the error table answers with
401 — a forged or broken request is never a 500.

What is signed differs by endpoint. An event (``POST /events/minivoice``) is signed over
its raw body, as every Standard Webhooks sender does. An answer request is signed over
:func:`answer_content` — method, path, raw query string and body — because its query
string chooses what is served: a signature over the body alone (empty for a GET) could
be replayed for any flow, step, call id or variables.

Several secrets (``TONEFLOW_WEBHOOK_SECRET="whsec_new whsec_old"``) are accepted at once,
so a secret can be rotated without dropping events. Secrets are parsed by
:func:`toneflow.webhook_secrets.parse_secrets`, the same parser start-up uses.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook, WebhookVerificationError

from toneflow.webhook_secrets import SecretError, parse_secret, parse_secrets

__all__ = [
    "SecretError",
    "SignatureError",
    "Verifier",
    "answer_content",
    "environ_answer_content",
    "sign",
]

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class SignatureError(Exception):
    """The request is not signed by a configured secret; the message says why."""


def answer_content(method: str, path: bytes, query: bytes, body: bytes) -> bytes:
    """The bytes an answer request's signature covers (docs/hardening.md, byte for byte).

    ``METHOD SP PATH ["?" QUERY] LF BODY``: the method in capitals, the percent-decoded
    path (script root included), ``?`` and the query string exactly as sent when there is
    one, a line feed, then the raw body (nothing for a GET).
    """
    target = path + (b"?" + query if query else b"")
    return method.upper().encode("ascii") + b" " + target + b"\n" + body


def environ_answer_content(environ: Mapping[str, str], body: bytes) -> bytes:
    """:func:`answer_content` of a WSGI request, from what the server was sent.

    WSGI servers hand the path over percent-decoded and the query string raw, both as
    latin-1 strings of the bytes received; encoding back to latin-1 recovers those bytes
    without re-encoding anything.
    """
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return answer_content(
        environ.get("REQUEST_METHOD", "GET"),
        path.encode("latin-1"),
        environ.get("QUERY_STRING", "").encode("latin-1"),
        body,
    )


class Verifier:
    """Checks requests against one or more secrets."""

    def __init__(self, secrets: str) -> None:
        # Keys, not the strings: the package would accept what parse_secrets refuses.
        self.webhooks = [Webhook(key) for key in parse_secrets(secrets)]

    def verify(self, content: bytes, headers: Mapping[str, str], *, what: str = "body") -> None:
        """Return if one secret signed ``content`` with these headers; raise SignatureError.

        ``content`` is an event's body, or an answer request's :func:`answer_content`
        (``what`` names it in the message when it is not UTF-8).
        """
        present = {name: headers.get(name, "") for name in REQUIRED_HEADERS}
        missing = [name for name, value in present.items() if not value]
        if missing:
            raise SignatureError(f"missing signature header(s): {', '.join(missing)}")
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SignatureError(f"the signed {what} is not UTF-8") from err
        reason = "no signature matches a configured secret"
        for webhook in self.webhooks:
            try:
                webhook.verify(content, present, json_parse=False)
                return
            except WebhookVerificationError as err:
                reason = _reason(err)
                if reason != "no signature matches a configured secret":
                    break  # timestamp or header problems are the same for every secret
            except (ValueError, binascii.Error, TypeError) as err:
                raise SignatureError(
                    "malformed webhook-signature: expected space-separated 'v1,<base64>' entries"
                ) from err
        raise SignatureError(reason)


def _reason(err: WebhookVerificationError) -> str:
    text = str(err)
    return {
        "Message timestamp too old": "webhook-timestamp is more than 5 minutes old",
        "Message timestamp too new": "webhook-timestamp is more than 5 minutes in the future",
        "Invalid Signature Headers": "webhook-timestamp is not a Unix time in seconds",
        "No matching signature found": "no signature matches a configured secret",
    }.get(text, text)


def sign(
    secret: str,
    message_id: str,
    timestamp: int,
    content: bytes,
) -> dict[str, str]:
    """The three headers a sender would add: for tests and ``toneflow webhooks sign``.

    ``content`` is an event's body or an answer request's :func:`answer_content`.
    """
    key = parse_secret(secret, "the signing secret")
    signature = Webhook(key).sign(
        message_id, datetime.fromtimestamp(timestamp, tz=UTC), content.decode("utf-8")
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
