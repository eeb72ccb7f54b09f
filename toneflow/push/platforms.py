"""Each push platform as its document says (``shared/seeds/``): settings, request, reply.

One row per platform: the settings it needs (``TONEFLOW_<PLATFORM>_…``, read by
:mod:`toneflow.config`), the call reference a push names (VICIdial's ``agent_user``,
Vobiz's ``call_uuid`` and optional ``leg``, Genesys's ``call_id``), how one run of digits
becomes a request, and what its reply means. No HTTP here: :mod:`toneflow.push.client`
sends what this builds, so a request can be shown (``--dry-run``) exactly as it would go.

- VICIdial agent API: ``GET {url}/agc/api.php?source=…&user=…&pass=…&agent_user=…
  &function=send_dtmf&value=…``; a ``SUCCESS: send_dtmf function set`` line is success,
  ``ERROR: agent_user is not logged in`` and ``ERROR: send_dtmf not valid`` are named.
- Vobiz: ``POST {url}/api/v1/Account/{auth_id}/Call/{call_uuid}/DTMF/`` with
  ``{"digits", "leg"}`` and the ``X-Auth-ID``/``X-Auth-Token`` headers; ``202`` (the
  document's example; its schema says ``200``, taken too) is success; ``400``, ``401``
  and ``404`` ("the call is not active") are named.
- Genesys Web Services: ``POST {url}/api/v2/me/calls/{id}`` with
  ``{"operationName": "SendDtmf", "digits"}`` and a bearer token; ``{"statusCode": 0}``
  is success.

Secrets (VICIdial's ``pass``, Vobiz's auth token, the Genesys token) are only in the
request the client sends: every record, log line and dry run holds the same request
built with them masked (:func:`build` with ``shown=True``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

#: What a masked secret reads as, in records, logs and dry runs.
MASK = "****"
#: What VICIdial's ``source`` parameter says: who is calling its API.
VICIDIAL_SOURCE = "toneflow"
VOBIZ_LEGS = ("aleg", "bleg", "both")
#: How much of a reply a record keeps and an error quotes.
REPLY_SHOWN = 300


class NotConfigured(Exception):
    """The platform's settings are not all set; the message names the variables."""


@dataclass(frozen=True)
class Platform:
    """One platform's settings (config key → is it a secret) and call reference fields."""

    name: str
    title: str
    settings: Mapping[str, bool]
    reference: tuple[str, ...]  # the first is required, the others optional

    @property
    def variables(self) -> tuple[str, ...]:
        """The environment variables that configure it, in the issue's order."""
        return tuple(f"TONEFLOW_{key}" for key in self.settings)


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            "vicidial",
            "VICIdial",
            {"VICIDIAL_URL": False, "VICIDIAL_USER": False, "VICIDIAL_PASS": True},
            ("agent_user",),
        ),
        Platform(
            "vobiz",
            "Vobiz",
            {"VOBIZ_URL": False, "VOBIZ_AUTH_ID": False, "VOBIZ_AUTH_TOKEN": True},
            ("call_uuid", "leg"),
        ),
        Platform("genesys", "Genesys", {"GENESYS_URL": False, "GENESYS_TOKEN": True}, ("call_id",)),
    )
}

#: Every push setting's config key, for :mod:`toneflow.config` (read as text, unparsed).
SETTING_KEYS = tuple(key for p in PLATFORMS.values() for key in p.settings)


@dataclass(frozen=True)
class Settings:
    """A configured platform: its values by config key, and the secret ones."""

    platform: Platform
    values: Mapping[str, str]

    def base(self, key: str) -> str:
        return self.values[key].rstrip("/")


def settings_for(platform: str, config: Mapping[str, Any]) -> Settings:
    """The platform's settings from the configuration, or :class:`NotConfigured` naming
    every variable that is unset (or empty)."""
    p = PLATFORMS[platform]
    missing = [f"TONEFLOW_{key}" for key in p.settings if not config.get(key)]
    if missing:
        needs = "" if len(missing) == len(p.variables) else f" (it needs {', '.join(p.variables)})"
        verb = "is" if len(missing) == 1 else "are"
        raise NotConfigured(
            f"{p.title} is not configured: {', '.join(missing)} {verb} not set{needs}"
        )
    return Settings(p, {key: str(config[key]) for key in p.settings})


@dataclass(frozen=True)
class Outgoing:
    """One request as it is sent (or, built with secrets masked, as it is shown)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json_body: dict[str, Any] | None = None

    @property
    def content(self) -> bytes | None:
        """The exact body bytes sent (JSON, compact), or None for a GET."""
        if self.json_body is None:
            return None
        return json.dumps(self.json_body, separators=(",", ":")).encode("utf-8")

    def as_record(self) -> dict[str, Any]:
        """The request as records, logs and dry runs hold it (build it ``shown=True``)."""
        content = self.content
        return {
            "method": self.method,
            "url": self.url,
            "headers": dict(self.headers),
            "body": None if content is None else content.decode("utf-8"),
        }


def build(
    settings: Settings, reference: Mapping[str, str], digits: str, *, shown: bool = False
) -> Outgoing:
    """The request that sends ``digits`` (already in the platform's spelling); with
    ``shown``, the same request with every secret written as :data:`MASK`.

    Built twice rather than masked by search and replace: a secret such as ``1234`` may
    also be digits of the value sent, which must stay readable.
    """

    def value(key: str) -> str:
        return MASK if shown and settings.platform.settings[key] else settings.values[key]

    name = settings.platform.name
    if name == "vicidial":
        query = {
            "source": VICIDIAL_SOURCE,
            "user": value("VICIDIAL_USER"),
            "pass": value("VICIDIAL_PASS"),
            "agent_user": reference["agent_user"],
            "function": "send_dtmf",
            "value": digits,
        }
        url = f"{settings.base('VICIDIAL_URL')}/agc/api.php?{urlencode(query, safe='*')}"
        return Outgoing("GET", url)
    if name == "vobiz":
        auth_id = value("VOBIZ_AUTH_ID")
        url = (
            f"{settings.base('VOBIZ_URL')}/api/v1/Account/{quote(auth_id, safe='')}"
            f"/Call/{quote(reference['call_uuid'], safe='')}/DTMF/"
        )
        body: dict[str, Any] = {"digits": digits}
        if reference.get("leg"):
            body["leg"] = reference["leg"]
        headers = {"X-Auth-ID": auth_id, "X-Auth-Token": value("VOBIZ_AUTH_TOKEN")}
        return Outgoing("POST", url, headers, body)
    url = f"{settings.base('GENESYS_URL')}/api/v2/me/calls/{quote(reference['call_id'], safe='')}"
    headers = {"Authorization": f"Bearer {value('GENESYS_TOKEN')}"}
    return Outgoing("POST", url, headers, {"operationName": "SendDtmf", "digits": digits})


def reply_error(platform: str, reference: Mapping[str, str], status: int, text: str) -> str | None:
    """None when the reply says the digits were taken; otherwise why not, in words that
    name the cause (and quote the reply)."""
    quoted = _quote(text)
    if platform == "vicidial":
        return _vicidial(reference["agent_user"], status, text.strip(), quoted)
    if platform == "vobiz":
        return _vobiz(reference["call_uuid"], status, quoted)
    return _genesys(reference["call_id"], status, text, quoted)


def _vicidial(agent: str, status: int, text: str, quoted: str) -> str | None:
    if status == 200 and text.startswith("SUCCESS: send_dtmf function set"):
        return None
    if text.startswith("ERROR: agent_user is not logged in"):
        return f"VICIdial: agent {agent!r} is not logged in, so no call took the digits ({quoted})"
    if text.startswith("ERROR: send_dtmf not valid"):
        return f"VICIdial refused the digits as not valid ({quoted})"
    if text.startswith("ERROR"):
        return f"VICIdial answered with an error ({quoted})"
    return f"VICIdial answered HTTP {status} without a SUCCESS line ({quoted})"


VOBIZ_ERRORS = {
    400: "Vobiz refused the request: digits missing or holding characters it does not take",
    401: "Vobiz refused the credentials (TONEFLOW_VOBIZ_AUTH_ID / TONEFLOW_VOBIZ_AUTH_TOKEN)",
}


def _vobiz(call_uuid: str, status: int, quoted: str) -> str | None:
    if status in (200, 202):
        return None
    if status == 404:
        return f"Vobiz: the call is not active (call_uuid {call_uuid!r}; 404, {quoted})"
    cause = VOBIZ_ERRORS.get(status, "Vobiz answered with an error")
    return f"{cause} (HTTP {status}, {quoted})"


def _genesys(call_id: str, status: int, text: str, quoted: str) -> str | None:
    try:
        reply = json.loads(text)
    except ValueError:
        reply = None
    code = reply.get("statusCode") if isinstance(reply, dict) else None
    if 200 <= status < 300 and code == 0:
        return None
    if status == 401:
        return f"Genesys refused the token (TONEFLOW_GENESYS_TOKEN; 401, {quoted})"
    if status == 404:
        return f"Genesys has no call {call_id!r} (404, {quoted})"
    if 200 <= status < 300:
        return f"Genesys did not send the digits: statusCode {code!r} ({quoted})"
    return f"Genesys answered HTTP {status} ({quoted})"


def _quote(text: str) -> str:
    """A reply as an error quotes it: stripped, cut short, never empty."""
    text = text.strip()
    if not text:
        return "an empty reply"
    cut = text[:REPLY_SHOWN] + ("…" if len(text) > REPLY_SHOWN else "")
    return f"reply: {cut!r}"
