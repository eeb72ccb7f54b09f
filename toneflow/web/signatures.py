"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

Verification is the maintained ``standardwebhooks`` package's, over the raw body, with
its ±5 minute timestamp tolerance. The package raises exceptions other than its own for
some malformed input (a signature without a comma, bad base64, a body that is not
UTF-8): this module turns every one of them into :class:`SignatureError`, which the
error table answers with 401 — a forged or broken request is never a 500.

Several secrets (``TONEFLOW_WEBHOOK_SECRET="whsec_new whsec_old"``) are accepted at once,
so a secret can be rotated without dropping events.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping

from standardwebhooks import Webhook, WebhookVerificationError

REQUIRED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class SignatureError(Exception):
    """The request is not signed by a configured secret; the message says why."""


class SecretError(ValueError):
    """A configured secret cannot be used (not base64 after ``whsec_``, or empty)."""


class Verifier:
    """Checks requests against one or more secrets."""

    def __init__(self, secrets: str) -> None:
        self.webhooks: list[Webhook] = []
        for number, secret in enumerate(secrets.split(), start=1):
            try:
                self.webhooks.append(Webhook(secret))
            except Exception as err:  # the package raises several kinds for a bad secret
                raise SecretError(
                    f"TONEFLOW_WEBHOOK_SECRET: secret {number} is not a Standard Webhooks "
                    f"secret (whsec_ followed by base64): {err}"
                ) from err
        if not self.webhooks:
            raise SecretError("TONEFLOW_WEBHOOK_SECRET is set but holds no secret")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Return if one secret signed ``body`` with these headers; raise SignatureError."""
        present = {name: headers.get(name, "") for name in REQUIRED_HEADERS}
        missing = [name for name, value in present.items() if not value]
        if missing:
            raise SignatureError(f"missing signature header(s): {', '.join(missing)}")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SignatureError("the signed body is not UTF-8") from err
        reason = "no signature matches a configured secret"
        for webhook in self.webhooks:
            try:
                webhook.verify(body, present, json_parse=False)
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


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a sender would add: for tests and ``toneflow webhooks sign``."""
    from datetime import UTC, datetime

    signature = Webhook(secret).sign(
        message_id, datetime.fromtimestamp(timestamp, tz=UTC), body.decode("utf-8")
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
