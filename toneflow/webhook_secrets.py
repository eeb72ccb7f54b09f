"""The one parser for Standard Webhooks secrets (``whsec_`` followed by base64).

Start-up (:func:`toneflow.config.load_config`, so gunicorn and every command) and
``toneflow webhooks sign --secret`` both call :func:`parse_secrets`, so a secret is
accepted or refused the same way everywhere, with the same message.

The ``standardwebhooks`` package decodes leniently: it drops characters that are not
base64 (``whsec_!!!`` becomes an empty key, reported as "may not be empty") and accepts a
value without the ``whsec_`` prefix as a raw base64 key (``notasecret`` is a key). Here a
value must start with ``whsec_`` and the rest must be strict base64 (padding optional,
as the package allows) of at least one byte. Messages name the variable and the
secret's position, never the secret itself.
"""

from __future__ import annotations

import base64
import binascii
import re

PREFIX = "whsec_"
DEFAULT_VARIABLE = "TONEFLOW_WEBHOOK_SECRET"
#: The standard base64 alphabet, padding removed before the check.
BASE64 = re.compile(r"[A-Za-z0-9+/]*")


class SecretError(ValueError):
    """A configured secret cannot be used; the message names the variable, not the secret."""


def parse_secrets(value: object, variable: str = DEFAULT_VARIABLE) -> list[bytes]:
    """The HMAC keys of a space-separated list of ``whsec_…`` secrets, in order.

    Raises :class:`SecretError` for a value that holds no secret, a secret without the
    ``whsec_`` prefix, or one whose key is not base64 or is empty.
    """
    if not isinstance(value, str):
        # Flask reads TONEFLOW_* as JSON when it parses: `123` arrives as a number.
        raise SecretError(f"{variable}: secret 1 must start with {PREFIX} (followed by base64)")
    secrets = value.split()
    if not secrets:
        raise SecretError(f"{variable} is set but holds no secret")
    return [parse_secret(secret, f"{variable}: secret {n}") for n, secret in enumerate(secrets, 1)]


def parse_secret(secret: str, where: str) -> bytes:
    """One secret's key; ``where`` starts the message (``VARIABLE: secret N``)."""
    if not secret.startswith(PREFIX):
        raise SecretError(f"{where} must start with {PREFIX} (followed by base64)")
    encoded = secret[len(PREFIX) :].rstrip("=")
    if not encoded:
        raise SecretError(f"{where} has nothing after {PREFIX}: the key is empty")
    if not BASE64.fullmatch(encoded) or len(encoded) % 4 == 1:
        raise SecretError(
            f"{where} is not base64 after {PREFIX} (only A-Z, a-z, 0-9, + and / are allowed)"
        )
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as err:  # pragma: no cover - the checks above rule this out
        raise SecretError(f"{where} is not base64 after {PREFIX}") from err
